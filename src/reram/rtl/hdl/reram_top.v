// reram_top: the accelerator. A word-addressed host bus loads the conductance codes, ADC multipliers,
// activation-unit constants and per-layer settings, writes input codes, starts an inference and reads the
// logits, the prediction, the cycle count and the event counters.
//
// Host address map (word addresses; bits [31:24] select a region, [23:0] the word in it):
//   0x00 registers: 0 CTRL (write: bit0 start, bit1 clear counters)   6 DEBUG (write: bit0 stall test hook)
//                   1 STATUS (read: bit0 done, bit1 busy, bit2 protocol error, bits 7:4 controller state)
//                   2 CYCLES of the last inference   3 PRED (argmax)   4 / 5 best logit low / high
//                   16 + 2k / 17 + 2k: event counter k, low / high word
//                   256 + 2j / 257 + 2j: logit j, low / high word
//   0x01 / 0x02     G+ / G- conductance codes (reram_xbar_macro memory)
//   0x03            ADC multiplier per (layer, row tile)
//   0x04            activation-unit multiplier per (layer, column), signed 16 bit
//   0x05 / 0x06     activation-unit bias per (layer, column), low word / high word (signed)
//   0x07            layer l settings: 4l + 0 ADC shift, 4l + 1 ADC signed, 4l + 2 requantization shift
//   0x08            input codes, CPW codes per word (code i of the word in bits [(32/CPW)*i +: XW])
//   0x09 / 0x0A     read back activation buffer 0 / 1 (one code per word; for layer-by-layer checks)
// Event counters: 0 DAC row activations, 1 array reads, 2 ADC conversions, 3 shift-adds,
//                 4 input-buffer reads, 5 output-buffer writes, 6 busy cycles (all inferences).
`default_nettype none

module reram_top (
    input  wire        clk,
    input  wire        rst,
    input  wire        host_we,
    input  wire [31:0] host_addr,
    input  wire [31:0] host_wdata,
    output reg  [31:0] host_rdata,
    output wire        done,
    output wire        busy
);

    /* verilator lint_off UNUSEDPARAM */
`include "reram_params.vh"
    /* verilator lint_on UNUSEDPARAM */

    localparam TW = 8;                       // tile index width
    localparam KW = 8;                       // ADC round index width
    localparam FW = 12;                      // feature index width of the controller
    localparam CW = ADC_BITS + 1;            // ADC code width (signed)
    localparam TAGW = 1 + OAW + 6;           // ADC tag: enable, output column, shift amount
    localparam NCNT = 7;                     // event counters
    localparam CPW = (XW <= 8) ? 4 : 2;      // input codes per host word
    localparam CNTW = 9;                     // width of a row count

    // ---------------------------------------------------------------- host-loaded memories and state
    reg [MW-1:0]   adc_mult_mem [0:(1<<TAW)-1];
    reg [15:0]     req_mult_mem [0:(1<<CAW)-1];
    reg [63:0]     req_bias_mem [0:(1<<CAW)-1];
    reg [5:0]      adc_shift_mem [0:(1<<LAW)-1];
    reg            adc_signed_mem [0:(1<<LAW)-1];
    reg [5:0]      req_shift_mem [0:(1<<LAW)-1];
    reg [XW-1:0]   buf0_mem [0:(1<<FAW)-1];
    reg [XW-1:0]   buf1_mem [0:(1<<FAW)-1];
    reg [63:0]     logit_mem [0:(1<<OAW)-1];
    reg [63:0]     count_reg [0:NCNT-1];
    reg [31:0]     cycles_reg;
    reg            stall_reg;
    reg            proto_err_reg;            // sticky: the host broke the bus protocol

    wire [7:0]  region = host_addr[31:24];
    wire [23:0] waddr = host_addr[23:0];
    wire        reg_write = host_we && region == 8'h00 && waddr == 24'd0;
    wire        start = reg_write && host_wdata[0];
    wire        clear_counts = reg_write && host_wdata[1];

    // ---------------------------------------------------------------- controller
    wire [3:0]    state;
    wire [3:0]    layer_full;
    wire [TW-1:0] tile;
    wire [TW-1:0] ctile;
    wire [3:0]    bit_idx;
    wire [KW-1:0] round_idx;
    wire [FW-1:0] act_idx_full;
    wire [7:0]    cols;
    wire          clr_acc, latch, xbar_start, adc_issue, act_valid, last_layer;

    reram_ctrl #(.LW(4), .TW(TW), .KW(KW), .AW(FW)) u_ctrl (
        .clk(clk), .rst(rst), .start(start), .stall(stall_reg), .state(state), .busy(busy), .done(done),
        .layer(layer_full), .tile(tile), .ctile(ctile), .bit_idx(bit_idx), .round_idx(round_idx),
        .act_idx(act_idx_full), .cols(cols), .clr_acc(clr_acc), .latch(latch), .xbar_start(xbar_start),
        .adc_issue(adc_issue), .act_valid(act_valid), .last_layer(last_layer)
    );

    // Index arithmetic is done at 32 bits and cut to each memory's address width.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] layer32 = {28'd0, layer_full};
    wire [31:0] tile32 = {24'd0, tile};
    wire [31:0] ctile32 = {24'd0, ctile};
    wire [31:0] act32 = {20'd0, act_idx_full};
    wire [31:0] l_in = {16'd0, L_IN[layer32*16 +: 16]};
    wire [31:0] l_nc = {16'd0, L_NC[layer32*16 +: 16]};
    wire [31:0] l_gbase = L_GBASE[layer32*32 +: 32];
    wire [31:0] l_tbase = {16'd0, L_TBASE[layer32*16 +: 16]};
    wire [31:0] l_cbase = {16'd0, L_CBASE[layer32*16 +: 16]};
    wire [31:0] tmem_full = l_tbase + tile32;
    wire [31:0] cmem_full = l_cbase + act32;
    wire [31:0] array_base = l_gbase + (tile32 * l_nc + ctile32 * PAIRS) * ROWS;
    wire [31:0] waddr32 = {8'd0, waddr};
    /* verilator lint_on UNUSEDSIGNAL */
    wire [LAW-1:0] layer = layer32[LAW-1:0];
    wire [TAW-1:0] tmem_idx = tmem_full[TAW-1:0];
    wire [CAW-1:0] cmem_idx = cmem_full[CAW-1:0];
    wire [OAW-1:0] act_idx = act32[OAW-1:0];
    wire           src_is_buf1 = layer32[0];

    // ---------------------------------------------------------------- input buffer -> DAC drivers
    reg  [ROWS*XW-1:0] tile_codes;
    wire [31:0]        tile_first = tile32 * ROWS;
    wire [31:0]        rows_left = l_in - tile_first;
    wire [CNTW-1:0]    used_rows = (rows_left > ROWS) ? ROWS[CNTW-1:0] : rows_left[CNTW-1:0];
    integer r;
    reg [31:0] row_addr;
    always @(*) begin
        for (r = 0; r < ROWS; r = r + 1) begin
            row_addr = tile_first + r;
            if (row_addr < MAX_FEAT)
                tile_codes[r*XW +: XW] = src_is_buf1 ? buf1_mem[row_addr[FAW-1:0]] : buf0_mem[row_addr[FAW-1:0]];
            else
                tile_codes[r*XW +: XW] = {XW{1'b0}};
        end
    end

    wire [ROWS*XW-1:0] drive;
    wire [CNTW-1:0]    active_rows;
    reram_dac #(.ROWS(ROWS), .XW(XW), .BIT_SERIAL(BIT_SERIAL), .CNTW(CNTW)) u_dac (
        .clk(clk), .rst(rst), .latch(latch), .codes_in(tile_codes), .used_rows(used_rows), .bit_sel(bit_idx),
        .drive(drive), .active_rows(active_rows)
    );

    // ---------------------------------------------------------------- crossbar (behavioural analog macro)
    wire [PAIRS*SW-1:0] sums;
    wire                xbar_valid;
    reram_xbar_macro #(.ROWS(ROWS), .PAIRS(PAIRS), .XW(XW), .GW(GW), .SW(SW), .GDEPTH(GDEPTH), .GAW(GAW),
                       .LAT(ARRAY_LAT)) u_xbar (
        .clk(clk), .rst(rst),
        .wr_pos(host_we && region == 8'h01), .wr_neg(host_we && region == 8'h02),
        .wr_addr(waddr32[GAW-1:0]), .wr_data(host_wdata[GW-1:0]),
        .start(xbar_start), .base(array_base[GAW-1:0]), .ncols(cols), .drive(drive), .valid(xbar_valid),
        .sums(sums)
    );

    // ---------------------------------------------------------------- ADC lanes
    wire [MW-1:0]         adc_mult = adc_mult_mem[tmem_idx];
    wire [N_ADC-1:0]      adc_valid;
    wire [N_ADC*CW-1:0]   adc_code;
    wire [N_ADC*TAGW-1:0] adc_tag;
    wire [N_ADC-1:0]      lane_on;
    genvar k;
    generate
        for (k = 0; k < N_ADC; k = k + 1) begin : g_adc
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] col = {24'd0, round_idx} * N_ADC + k;           // column within the array
            wire [31:0] gcol = ctile32 * PAIRS + col;                   // column within the layer
            wire [31:0] out_col = gcol / SLICES;
            wire [31:0] shamt = (BIT_SERIAL != 0 ? {28'd0, bit_idx} : 32'd0) + (gcol % SLICES) * CELL_BITS;
            /* verilator lint_on UNUSEDSIGNAL */
            wire [7:0]    col8 = col[7:0];
            wire [SW-1:0] value = (col < PAIRS) ? sums[col8*SW +: SW] : {SW{1'b0}};
            assign lane_on[k] = adc_issue && (col < {24'd0, cols});
            reram_adc #(.SW(SW), .MW(MW), .ADC_BITS(ADC_BITS), .LAT(ADC_LAT), .TAGW(TAGW)) u_adc (
                .clk(clk), .rst(rst), .in_valid(lane_on[k]), .in_value(value), .mult(adc_mult),
                .shift(adc_shift_mem[layer]), .is_signed(adc_signed_mem[layer]),
                .in_tag({lane_on[k], out_col[OAW-1:0], shamt[5:0]}),
                .out_valid(adc_valid[k]), .out_code(adc_code[k*CW +: CW]), .out_tag(adc_tag[k*TAGW +: TAGW])
            );
        end
    endgenerate

    // ---------------------------------------------------------------- shift-add accumulators
    wire [N_ADC-1:0]     add_en;
    wire [N_ADC*OAW-1:0] add_idx;
    wire [N_ADC*6-1:0]   add_shift;
    generate
        for (k = 0; k < N_ADC; k = k + 1) begin : g_lane
            assign add_en[k] = adc_valid[k] && adc_tag[k*TAGW + TAGW - 1];
            assign add_idx[k*OAW +: OAW] = adc_tag[k*TAGW + 6 +: OAW];
            assign add_shift[k*6 +: 6] = adc_tag[k*TAGW +: 6];
        end
    endgenerate
    wire signed [ACC_W-1:0] acc_rd;
    reram_accum #(.AW(OAW), .ACC_W(ACC_W), .LANES(N_ADC), .CW(CW), .SHW(6)) u_accum (
        .clk(clk), .rst(rst), .clear(clr_acc), .add_en(add_en), .add_idx(add_idx), .add_code(adc_code),
        .add_shift(add_shift), .rd_idx(act_idx), .rd_data(acc_rd)
    );

    // ---------------------------------------------------------------- activation unit, output buffer, argmax
    wire          act_out_valid;
    wire [XW-1:0] act_code;
    wire signed [63:0] act_logit;
    reram_act #(.ACC_W(ACC_W), .XW(XW)) u_act (
        .clk(clk), .rst(rst), .in_valid(act_valid), .acc(acc_rd), .mult(req_mult_mem[cmem_idx]),
        .bias(req_bias_mem[cmem_idx]), .shift(req_shift_mem[layer]), .out_valid(act_out_valid),
        .out_code(act_code), .out_logit(act_logit)
    );
    reg [OAW-1:0] act_idx_reg;
    reg           act_last_reg;
    reg           act_dst1_reg;
    always @(posedge clk) begin
        act_idx_reg <= act_idx;
        act_last_reg <= last_layer;
        act_dst1_reg <= ~src_is_buf1;
    end

    wire [OAW-1:0] best_idx;
    wire signed [63:0] best_value;
    reram_argmax #(.IW(OAW)) u_argmax (
        .clk(clk), .rst(rst), .clear(start), .in_valid(act_out_valid && act_last_reg), .in_idx(act_idx_reg),
        .in_value(act_logit), .best_idx(best_idx), .best_value(best_value)
    );

    // ---------------------------------------------------------------- event counters
    integer n;
    reg [15:0] conv_lanes;
    reg [15:0] add_lanes;
    always @(*) begin
        conv_lanes = 16'd0;
        add_lanes = 16'd0;
        for (n = 0; n < N_ADC; n = n + 1) begin
            conv_lanes = conv_lanes + {15'd0, lane_on[n]};
            add_lanes = add_lanes + {15'd0, add_en[n]};
        end
    end

    // ---------------------------------------------------------------- host writes and state updates
    // input-buffer word writes: CPW codes per host word
    wire [CPW*FAW-1:0] in_idx;
    wire [CPW-1:0]     in_ok;
    generate
        for (k = 0; k < CPW; k = k + 1) begin : g_in
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] in_addr = waddr32 * CPW + k;
            /* verilator lint_on UNUSEDSIGNAL */
            assign in_idx[k*FAW +: FAW] = in_addr[FAW-1:0];
            assign in_ok[k] = in_addr < MAX_FEAT;
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] act_w32 = {{(32-OAW){1'b0}}, act_idx_reg};
    /* verilator lint_on UNUSEDSIGNAL */
    wire [FAW-1:0] act_buf_idx = act_w32[FAW-1:0];

    integer c;
    always @(posedge clk) begin
        if (rst) begin
            stall_reg <= 1'b0;
            proto_err_reg <= 1'b0;
            cycles_reg <= 32'd0;
            for (c = 0; c < NCNT; c = c + 1) count_reg[c] <= 64'd0;
        end else begin
            if (host_we) begin
                case (region)
                    8'h00: if (waddr == 24'd6) stall_reg <= host_wdata[0];
                    8'h03: adc_mult_mem[waddr32[TAW-1:0]] <= host_wdata[MW-1:0];
                    8'h04: req_mult_mem[waddr32[CAW-1:0]] <= host_wdata[15:0];
                    8'h05: req_bias_mem[waddr32[CAW-1:0]][31:0] <= host_wdata;
                    8'h06: req_bias_mem[waddr32[CAW-1:0]][63:32] <= host_wdata;
                    8'h07: begin
                        if (waddr[1:0] == 2'd0) adc_shift_mem[waddr32[2 +: LAW]] <= host_wdata[5:0];
                        if (waddr[1:0] == 2'd1) adc_signed_mem[waddr32[2 +: LAW]] <= host_wdata[0];
                        if (waddr[1:0] == 2'd2) req_shift_mem[waddr32[2 +: LAW]] <= host_wdata[5:0];
                    end
                    8'h08: begin
                        for (c = 0; c < CPW; c = c + 1) begin
                            if (in_ok[c]) buf0_mem[in_idx[c*FAW +: FAW]] <= host_wdata[c*(32/CPW) +: XW];
                        end
                    end
                    default: ;
                endcase
            end
            // protocol checker: no memory or input writes, and no new start, while an inference runs
            if (host_we && busy && (region != 8'h00 || start)) proto_err_reg <= 1'b1;
            else if (clear_counts) proto_err_reg <= 1'b0;
            if (start) cycles_reg <= 32'd0;
            else if (busy) cycles_reg <= cycles_reg + 32'd1;
            if (clear_counts) begin
                for (c = 0; c < NCNT; c = c + 1) count_reg[c] <= 64'd0;
            end else begin
                if (xbar_start) begin
                    count_reg[0] <= count_reg[0] + {55'd0, active_rows};
                    count_reg[1] <= count_reg[1] + 64'd1;
                end
                count_reg[2] <= count_reg[2] + {48'd0, conv_lanes};
                count_reg[3] <= count_reg[3] + {48'd0, add_lanes};
                if (latch) count_reg[4] <= count_reg[4] + {55'd0, used_rows};
                if (act_out_valid) count_reg[5] <= count_reg[5] + 64'd1;
                if (busy) count_reg[6] <= count_reg[6] + 64'd1;
            end
            if (act_out_valid) begin
                if (act_last_reg) logit_mem[act_idx_reg] <= act_logit;
                else if (act_dst1_reg) buf1_mem[act_buf_idx] <= act_code;
                else buf0_mem[act_buf_idx] <= act_code;
            end
        end
    end

    // ---------------------------------------------------------------- host reads
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] cnt_sel = (waddr32 - 32'd16) >> 1;
    wire [31:0] logit_sel = (waddr32 - 32'd256) >> 1;
    /* verilator lint_on UNUSEDSIGNAL */
    always @(*) begin
        host_rdata = 32'd0;
        if (region == 8'h00) begin
            if (waddr == 24'd1) host_rdata = {24'd0, state, 1'b0, proto_err_reg, busy, done};
            else if (waddr == 24'd2) host_rdata = cycles_reg;
            else if (waddr == 24'd3) host_rdata = {{(32-OAW){1'b0}}, best_idx};
            else if (waddr == 24'd4) host_rdata = best_value[31:0];
            else if (waddr == 24'd5) host_rdata = best_value[63:32];
            else if (waddr >= 24'd16 && waddr < 24'd16 + 2 * NCNT)
                host_rdata = waddr[0] ? count_reg[cnt_sel[2:0]][63:32] : count_reg[cnt_sel[2:0]][31:0];
            else if (waddr >= 24'd256 && waddr < 24'd256 + 2 * MAX_OUT)
                host_rdata = waddr[0] ? logit_mem[logit_sel[OAW-1:0]][63:32] : logit_mem[logit_sel[OAW-1:0]][31:0];
        end else if (region == 8'h09 && waddr32 < MAX_FEAT) begin
            host_rdata = {{(32-XW){1'b0}}, buf0_mem[waddr32[FAW-1:0]]};
        end else if (region == 8'h0A && waddr32 < MAX_FEAT) begin
            host_rdata = {{(32-XW){1'b0}}, buf1_mem[waddr32[FAW-1:0]]};
        end
    end

    wire unused_ok = &{1'b0, xbar_valid, host_addr[23:16] == 8'd0};

endmodule

`default_nettype wire
