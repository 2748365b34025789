// reram_top: the accelerator. A word-addressed host bus loads the conductance codes, ADC multipliers,
// activation-unit constants and per-layer settings, writes input codes, starts an inference and reads the
// logits, the prediction, the cycle count and the event counters.
//
// Host address map (word addresses; bits [31:24] select a region, [23:0] the word in it):
//   0x00 registers: 0 CTRL (write: bit0 start, bit1 clear counters, bit2 stall test hook)
//                   1 STATUS (read: bit0 done, bit1 busy, bits 7:4 controller state)
//                   2 CYCLES of the last inference   3 PRED (argmax)
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

`include "reram_params.vh"

    localparam LW = 4;                       // layer index width
    localparam TW = 8;                       // tile index width
    localparam KW = 8;                       // ADC round index width
    localparam FW = 12;                      // feature index width
    localparam CW = ADC_BITS + 1;            // ADC code width (signed)
    localparam TAGW = 1 + FW + 6;            // ADC tag: enable, output column, shift amount
    localparam NCNT = 7;                     // event counters
    localparam CPW = (XW <= 8) ? 4 : 2;      // input codes per host word
    localparam CNTW = 9;                     // width of a row count

    // ---------------------------------------------------------------- host-loaded memories
    reg [MW-1:0]   adc_mult_mem [0:TDEPTH-1];
    reg [15:0]     req_mult_mem [0:CDEPTH-1];
    reg [63:0]     req_bias_mem [0:CDEPTH-1];
    reg [5:0]      adc_shift_reg [0:N_LAYERS-1];
    reg            adc_signed_reg [0:N_LAYERS-1];
    reg [5:0]      req_shift_reg [0:N_LAYERS-1];
    reg [XW-1:0]   buf0_mem [0:MAX_FEAT-1];
    reg [XW-1:0]   buf1_mem [0:MAX_FEAT-1];
    reg [63:0]     logit_reg [0:MAX_OUT-1];
    reg [63:0]     count_reg [0:NCNT-1];
    reg [31:0]     cycles_reg;
    reg            stall_reg;

    wire [7:0]  region = host_addr[31:24];
    wire [23:0] waddr = host_addr[23:0];
    wire        start = host_we && region == 8'h00 && waddr == 24'd0 && host_wdata[0];
    wire        clear_counts = host_we && region == 8'h00 && waddr == 24'd0 && host_wdata[1];

    // ---------------------------------------------------------------- controller
    wire [3:0]    state;
    wire [LW-1:0] layer;
    wire [TW-1:0] tile;
    wire [TW-1:0] ctile;
    wire [3:0]    bit_idx;
    wire [KW-1:0] round_idx;
    wire [FW-1:0] act_idx;
    wire [7:0]    cols;
    wire          clr_acc, latch, xbar_start, adc_issue, act_valid, last_layer;

    reram_ctrl #(.LW(LW), .TW(TW), .KW(KW), .AW(FW)) u_ctrl (
        .clk(clk), .rst(rst), .start(start), .stall(stall_reg), .state(state), .busy(busy), .done(done),
        .layer(layer), .tile(tile), .ctile(ctile), .bit_idx(bit_idx), .round_idx(round_idx), .act_idx(act_idx),
        .cols(cols), .clr_acc(clr_acc), .latch(latch), .xbar_start(xbar_start), .adc_issue(adc_issue),
        .act_valid(act_valid), .last_layer(last_layer)
    );

    wire [15:0] l_in    = L_IN[layer*16 +: 16];
    wire [15:0] l_nc    = L_NC[layer*16 +: 16];
    wire [31:0] l_gbase = L_GBASE[layer*32 +: 32];
    wire [15:0] l_tbase = L_TBASE[layer*16 +: 16];
    wire [15:0] l_cbase = L_CBASE[layer*16 +: 16];
    wire        src_is_buf1 = layer[0];

    // ---------------------------------------------------------------- input buffer -> DAC drivers
    reg  [ROWS*XW-1:0] tile_codes;
    wire [15:0]        tile_first = {8'd0, tile} * ROWS;
    wire [15:0]        rows_left = l_in - tile_first;
    wire [CNTW-1:0]    used_rows = (rows_left > ROWS) ? ROWS : rows_left[CNTW-1:0];
    integer r;
    always @(*) begin
        for (r = 0; r < ROWS; r = r + 1) begin
            if (tile_first + r < MAX_FEAT)
                tile_codes[r*XW +: XW] = src_is_buf1 ? buf1_mem[tile_first + r] : buf0_mem[tile_first + r];
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
    wire [31:0] array_base = l_gbase + (({16'd0, 8'd0, tile} * l_nc) + ({16'd0, 8'd0, ctile} * PAIRS)) * ROWS;
    wire [PAIRS*SW-1:0] sums;
    wire                xbar_valid;
    reram_xbar_macro #(.ROWS(ROWS), .PAIRS(PAIRS), .XW(XW), .GW(GW), .SW(SW), .GDEPTH(GDEPTH), .GAW(GAW),
                       .LAT(ARRAY_LAT)) u_xbar (
        .clk(clk), .rst(rst),
        .wr_pos(host_we && region == 8'h01), .wr_neg(host_we && region == 8'h02),
        .wr_addr(waddr[GAW-1:0]), .wr_data(host_wdata[GW-1:0]),
        .start(xbar_start), .base(array_base[GAW-1:0]), .ncols(cols), .drive(drive), .valid(xbar_valid),
        .sums(sums)
    );

    // ---------------------------------------------------------------- ADC lanes
    wire [MW-1:0] adc_mult = adc_mult_mem[l_tbase + {8'd0, tile}];
    wire [N_ADC-1:0]      adc_valid;
    wire [N_ADC*CW-1:0]   adc_code;
    wire [N_ADC*TAGW-1:0] adc_tag;
    genvar k;
    generate
        for (k = 0; k < N_ADC; k = k + 1) begin : g_adc
            wire [15:0] col = {8'd0, round_idx} * N_ADC + k;           // column within the array
            wire        lane_en = adc_issue && (col < {8'd0, cols});
            wire [15:0] gcol = {8'd0, ctile} * PAIRS + col;             // column within the layer
            wire [15:0] out_col = gcol / SLICES;
            wire [15:0] slice_no = gcol % SLICES;
            wire [15:0] shamt = (BIT_SERIAL != 0 ? {12'd0, bit_idx} : 16'd0) + slice_no * CELL_BITS;
            wire [SW-1:0] value = (col < PAIRS) ? sums[col[7:0]*SW +: SW] : {SW{1'b0}};
            reram_adc #(.SW(SW), .MW(MW), .ADC_BITS(ADC_BITS), .LAT(ADC_LAT), .TAGW(TAGW)) u_adc (
                .clk(clk), .rst(rst), .in_valid(lane_en), .in_value(value), .mult(adc_mult),
                .shift(adc_shift_reg[layer]), .is_signed(adc_signed_reg[layer]),
                .in_tag({lane_en, out_col[FW-1:0], shamt[5:0]}),
                .out_valid(adc_valid[k]), .out_code(adc_code[k*CW +: CW]), .out_tag(adc_tag[k*TAGW +: TAGW])
            );
        end
    endgenerate

    // ---------------------------------------------------------------- shift-add accumulators
    wire [N_ADC-1:0]    add_en;
    wire [N_ADC*FW-1:0] add_idx;
    wire [N_ADC*6-1:0]  add_shift;
    generate
        for (k = 0; k < N_ADC; k = k + 1) begin : g_lane
            assign add_en[k] = adc_valid[k] && adc_tag[k*TAGW + TAGW - 1];
            assign add_idx[k*FW +: FW] = adc_tag[k*TAGW + 6 +: FW];
            assign add_shift[k*6 +: 6] = adc_tag[k*TAGW +: 6];
        end
    endgenerate
    wire signed [ACC_W-1:0] acc_rd;
    reram_accum #(.DEPTH(MAX_OUT), .AW(FW), .ACC_W(ACC_W), .LANES(N_ADC), .CW(CW), .SHW(6)) u_accum (
        .clk(clk), .rst(rst), .clear(clr_acc), .add_en(add_en), .add_idx(add_idx), .add_code(adc_code),
        .add_shift(add_shift), .rd_idx(act_idx), .rd_data(acc_rd)
    );

    // ---------------------------------------------------------------- activation unit, output buffer, argmax
    wire          act_out_valid;
    wire [XW-1:0] act_code;
    wire signed [63:0] act_logit;
    reram_act #(.ACC_W(ACC_W), .XW(XW)) u_act (
        .clk(clk), .rst(rst), .in_valid(act_valid), .acc(acc_rd), .mult(req_mult_mem[l_cbase + act_idx]),
        .bias(req_bias_mem[l_cbase + act_idx]), .shift(req_shift_reg[layer]), .out_valid(act_out_valid),
        .out_code(act_code), .out_logit(act_logit)
    );
    reg [FW-1:0] act_idx_reg;
    reg          act_last_reg;
    reg          act_dst1_reg;
    always @(posedge clk) begin
        act_idx_reg <= act_idx;
        act_last_reg <= last_layer;
        act_dst1_reg <= ~layer[0];
    end

    wire [FW-1:0] best_idx;
    wire signed [63:0] best_value;
    reram_argmax #(.IW(FW)) u_argmax (
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
            conv_lanes = conv_lanes + {15'd0, (adc_issue && ({8'd0, round_idx} * N_ADC + n < {8'd0, cols}))};
            add_lanes = add_lanes + {15'd0, add_en[n]};
        end
    end

    // ---------------------------------------------------------------- host writes and state updates
    integer c;
    always @(posedge clk) begin
        if (rst) begin
            stall_reg <= 1'b0;
            cycles_reg <= 32'd0;
            for (c = 0; c < NCNT; c = c + 1) count_reg[c] <= 64'd0;
        end else begin
            if (host_we) begin
                case (region)
                    8'h00: if (waddr == 24'd0) stall_reg <= host_wdata[2];
                    8'h03: adc_mult_mem[waddr[15:0]] <= host_wdata[MW-1:0];
                    8'h04: req_mult_mem[waddr[15:0]] <= host_wdata[15:0];
                    8'h05: req_bias_mem[waddr[15:0]][31:0] <= host_wdata;
                    8'h06: req_bias_mem[waddr[15:0]][63:32] <= host_wdata;
                    8'h07: begin
                        if (waddr[1:0] == 2'd0) adc_shift_reg[waddr[2 +: LW]] <= host_wdata[5:0];
                        if (waddr[1:0] == 2'd1) adc_signed_reg[waddr[2 +: LW]] <= host_wdata[0];
                        if (waddr[1:0] == 2'd2) req_shift_reg[waddr[2 +: LW]] <= host_wdata[5:0];
                    end
                    8'h08: begin
                        for (c = 0; c < CPW; c = c + 1) begin
                            if (waddr * CPW + c < MAX_FEAT) buf0_mem[waddr * CPW + c] <= host_wdata[c*(32/CPW) +: XW];
                        end
                    end
                    default: ;
                endcase
            end
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
                if (act_last_reg) logit_reg[act_idx_reg] <= act_logit;
                else if (act_dst1_reg) buf1_mem[act_idx_reg] <= act_code;
                else buf0_mem[act_idx_reg] <= act_code;
            end
        end
    end

    // ---------------------------------------------------------------- host reads
    always @(*) begin
        host_rdata = 32'd0;
        if (region == 8'h00) begin
            if (waddr == 24'd1) host_rdata = {24'd0, state, 2'd0, busy, done};
            else if (waddr == 24'd2) host_rdata = cycles_reg;
            else if (waddr == 24'd3) host_rdata = {{(32-FW){1'b0}}, best_idx};
            else if (waddr >= 24'd16 && waddr < 24'd16 + 2 * NCNT)
                host_rdata = waddr[0] ? count_reg[(waddr - 24'd16) >> 1][63:32] : count_reg[(waddr - 24'd16) >> 1][31:0];
            else if (waddr >= 24'd256 && waddr < 24'd256 + 2 * MAX_OUT)
                host_rdata = waddr[0] ? logit_reg[(waddr - 24'd256) >> 1][63:32] : logit_reg[(waddr - 24'd256) >> 1][31:0];
        end else if (region == 8'h09 && waddr < MAX_FEAT) begin
            host_rdata = {{(32-XW){1'b0}}, buf0_mem[waddr]};
        end else if (region == 8'h0A && waddr < MAX_FEAT) begin
            host_rdata = {{(32-XW){1'b0}}, buf1_mem[waddr]};
        end
    end

    wire unused_ok = &{1'b0, xbar_valid, best_value[0], host_addr[23:16] == 8'd0};

endmodule

`default_nettype wire
