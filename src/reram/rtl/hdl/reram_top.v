// reram_top: the spatial accelerator. One reram_layer per crossbar layer, all working at once as a pipeline over
// double-buffered feature maps: an input stream port fills layer 0's buffer (IN_CODES codes per cycle), each
// layer writes the buffers of the layers that read it, and the last layer writes a double-buffered logit memory
// that the host reads (out_ready / out_ack). The layers form a graph (L_SRC, L_ASRC): a layer's outputs go to the
// input buffer of every layer whose source it is and to the skip buffer of every layer that adds them (a residual
// add), all written at once; the layer starts an inference only when every one of those banks is free. A word-addressed host bus loads the conductance codes and constants and reads the
// logits, the prediction, the cycle counter and the event counters. The address map (the region / word split,
// the registers, the STATUS bits, the counter order) is generated from one Python spec (reram/ir/addrmap.py) into
// reram_addrmap.vh; the machine parameters (and the ADC code ranges of reram/ir/rules.py) into reram_params.vh.
// Event counters: see COUNTERS in reram/ir/addrmap.py. The dbg_* ports show every layer's output-buffer writes
// (the co-simulation compares each layer's codes with the golden model).
`default_nettype none

module reram_top (
    input  wire                          clk, rst,  // clock, synchronous reset
    input  wire                          host_we,
    input  wire [31:0]                   host_addr,
    input  wire [31:0]                   host_wdata,
    output reg  [31:0]                   host_rdata,
    input  wire                          in_valid,
    input  wire [IN_CODES*XW-1:0]        in_data,
    output wire                          in_ready,
    output wire                          out_ready,
    input  wire                          out_ack,
    output wire                          busy,
    output wire [N_LAYERS*ACT_LANES-1:0] dbg_we,
    output wire [N_LAYERS*ACT_LANES*32-1:0] dbg_addr,
    output wire [N_LAYERS*ACT_LANES*32-1:0] dbg_data,
    output wire [N_LAYERS-1:0]           dbg_fin
);

    /* verilator lint_off UNUSEDPARAM */
`include "reram_params.vh"
`include "reram_addrmap.vh"
    /* verilator lint_on UNUSEDPARAM */

    localparam F = FIELD_W;

    wire [REGION_W-1:0] region = host_addr[ADDR_W-1:WORD_W];
    wire [WORD_W-1:0]   waddr = host_addr[WORD_W-1:0];
    wire        reg_write = host_we && region == R_REG && waddr == A_CTRL;
    wire        clear_counts = reg_write && host_wdata[B_CTRL_CLEAR];
    reg         stall_reg;
    reg         proto_err_reg;            // sticky: the host broke the bus or stream protocol

    // ---------------------------------------------------------------- per-layer status and events (flat)
    wire [N_LAYERS-1:0]    l_busy;
    wire [N_LAYERS*4-1:0]  l_state;
    wire [N_LAYERS*32-1:0] l_ev_rows, l_ev_reads, l_ev_convs, l_ev_adds, l_ev_inreads, l_ev_outwrites;
    wire [N_LAYERS-1:0]    l_in_free;
    wire [N_LAYERS-1:0]    l_sk_free;
    wire [N_LAYERS*32-1:0] l_ev_resadds;

    // ---------------------------------------------------------------- input stream -> layer 0's buffer
    localparam IN0AW = L_INAW[0 +: F];
    localparam IN0BW = L_INBW[0 +: F];
    localparam IN0SZ = L_INSZ[0 +: F];
    localparam BEATW = $clog2(IN_BEATS + 1);
    reg [BEATW-1:0]       beat_reg;
    wire                  beat_ok = in_valid && in_ready;
    wire                  in_commit = beat_ok && ({{(32-BEATW){1'b0}}, beat_reg} == IN_BEATS - 1);
    wire [IN_CODES-1:0]        s_we;
    wire [IN_CODES*IN0AW-1:0]  s_waddr;
    wire [IN_CODES*IN0BW-1:0]  s_wdata;
    genvar k;
    generate
        for (k = 0; k < IN_CODES; k = k + 1) begin : g_in
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] a = {{(32-BEATW){1'b0}}, beat_reg} * IN_CODES + k;
            /* verilator lint_on UNUSEDSIGNAL */
            assign s_we[k] = beat_ok && a < IN0SZ;
            assign s_waddr[k*IN0AW +: IN0AW] = a[IN0AW-1:0];
            assign s_wdata[k*IN0BW +: IN0BW] = {{(IN0BW-XW){1'b0}}, in_data[k*XW +: XW]};
        end
    endgenerate
    always @(posedge clk) begin
        if (rst) beat_reg <= {BEATW{1'b0}};
        else if (beat_ok) beat_reg <= in_commit ? {BEATW{1'b0}} : beat_reg + 1'b1;
    end
    assign in_ready = l_in_free[0];

    // ---------------------------------------------------------------- the layers
    // every layer's output lanes, flat: write enable, 32-bit address, 64-bit data (words zero-extended)
    wire [N_LAYERS*ACT_LANES-1:0]    o_we;
    wire [N_LAYERS*ACT_LANES*32-1:0] o_addr;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [N_LAYERS*ACT_LANES*64-1:0] o_data;
    wire [N_LAYERS*ACT_LANES*64-1:0] i_old;     // layer l's input-buffer words under its source's writes
    wire [N_LAYERS*ACT_LANES*64-1:0] s_old;     // layer l's skip-buffer words under its operand's source's writes
    /* verilator lint_on UNUSEDSIGNAL */
    wire [N_LAYERS-1:0]              o_commit;
    wire [N_LAYERS-1:0]              o_free;    // layer l's output banks are free (in every layer reading it)
    wire                             lfree;     // the logit bank the last layer writes is free
    genvar l, r;
    generate
        for (l = 0; l < N_LAYERS; l = l + 1) begin : g_layer
            localparam INAW = L_INAW[l*F +: F];
            localparam INBW = L_INBW[l*F +: F];
            localparam INWL = L_INWL[l*F +: F];
            localparam OUTAW = L_OUTAW[l*F +: F];
            localparam OUTBW = L_OUTBW[l*F +: F];
            localparam SRC = L_SRC[l*F +: F];     // the layer read, + 1 (0: the input stream)
            localparam ASRC = L_ASRC[l*F +: F];   // the layer added, + 1 (0: no residual add)
            localparam SKAW = L_SKAW[l*F +: F];
            localparam SKBW = L_SKBW[l*F +: F];
            localparam WRD = L_WRD[l*F +: F];     // the reader whose buffer returns this layer's earlier words
            localparam WRK = L_WRK[l*F +: F];     // 0: that reader's input buffer, 1: its skip buffer
            wire [INWL-1:0]            in_we;
            wire [INWL*INAW-1:0]       in_waddr;
            wire [INWL*INBW-1:0]       in_wdata;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [INWL*INBW-1:0]       in_wold;    // layer 0's: the input stream does not pool
            wire [ACT_LANES*SKBW-1:0]  sk_wold;
            /* verilator lint_on UNUSEDSIGNAL */
            wire                       in_commit_l;
            wire [ACT_LANES-1:0]       sk_we;
            wire [ACT_LANES*SKAW-1:0]  sk_waddr;
            wire [ACT_LANES*SKBW-1:0]  sk_wdata;
            wire                       sk_commit;
            wire [ACT_LANES-1:0]       out_we;
            wire [ACT_LANES*OUTAW-1:0] out_waddr;
            wire [ACT_LANES*OUTBW-1:0] out_wdata;
            wire [ACT_LANES*OUTBW-1:0] out_wold;
            if (SRC == 0) begin : g_src
                assign in_we = s_we;
                assign in_waddr = s_waddr;
                assign in_wdata = s_wdata;
                assign in_commit_l = in_commit;
                assign i_old[l*ACT_LANES*64 +: ACT_LANES*64] = {ACT_LANES*64{1'b0}};
            end else begin : g_src
                for (k = 0; k < INWL; k = k + 1) begin : g_lane
                    assign in_we[k] = o_we[(SRC-1)*ACT_LANES + k];
                    assign in_waddr[k*INAW +: INAW] = o_addr[((SRC-1)*ACT_LANES + k)*32 +: INAW];
                    assign in_wdata[k*INBW +: INBW] = o_data[((SRC-1)*ACT_LANES + k)*64 +: INBW];
                    assign i_old[(l*ACT_LANES + k)*64 +: 64] = {{(64-INBW){1'b0}}, in_wold[k*INBW +: INBW]};
                end
                assign in_commit_l = o_commit[SRC-1];
            end
            if (ASRC == 0) begin : g_add
                assign sk_we = {ACT_LANES{1'b0}};
                assign sk_waddr = {ACT_LANES*SKAW{1'b0}};
                assign sk_wdata = {ACT_LANES*SKBW{1'b0}};
                assign sk_commit = 1'b0;
                assign s_old[l*ACT_LANES*64 +: ACT_LANES*64] = {ACT_LANES*64{1'b0}};
            end else begin : g_add
                for (k = 0; k < ACT_LANES; k = k + 1) begin : g_lane
                    assign sk_we[k] = o_we[(ASRC-1)*ACT_LANES + k];
                    assign sk_waddr[k*SKAW +: SKAW] = o_addr[((ASRC-1)*ACT_LANES + k)*32 +: SKAW];
                    assign sk_wdata[k*SKBW +: SKBW] = o_data[((ASRC-1)*ACT_LANES + k)*64 +: SKBW];
                    assign s_old[(l*ACT_LANES + k)*64 +: 64] = {{(64-SKBW){1'b0}}, sk_wold[k*SKBW +: SKBW]};
                end
                assign sk_commit = o_commit[ASRC-1];
            end
            if (l == N_LAYERS - 1) begin : g_sink
                assign o_free[l] = lfree;
                assign out_wold = {ACT_LANES*OUTBW{1'b0}};
            end else begin : g_sink
                // free when the bank this layer writes is free in every reader (input or skip buffer)
                wire [N_LAYERS-1:0] rd_free;
                for (r = 0; r < N_LAYERS; r = r + 1) begin : g_rd
                    assign rd_free[r] = (L_SRC[r*F +: F] != l + 1 || l_in_free[r]) &&
                                        (L_ASRC[r*F +: F] != l + 1 || l_sk_free[r]);
                end
                assign o_free[l] = &rd_free;
                for (k = 0; k < ACT_LANES; k = k + 1) begin : g_lane
                    if (WRK == 0) begin : g_in
                        assign out_wold[k*OUTBW +: OUTBW] = i_old[(WRD*ACT_LANES + k)*64 +: OUTBW];
                    end else begin : g_sk
                        assign out_wold[k*OUTBW +: OUTBW] = s_old[(WRD*ACT_LANES + k)*64 +: OUTBW];
                    end
                end
            end
            reram_layer #(
                .LI(l), .LAST(l == N_LAYERS - 1 ? 1 : 0), .ROWS(ROWS), .PAIRS(PAIRS), .N_ADC(N_ADC),
                .ADC_LAT(ADC_LAT), .ARRAY_LAT(ARRAY_LAT), .XW(XW), .SLICE_BITS(SLICE_BITS), .N_INSL(N_INSL),
                .ADC_BITS(ADC_BITS), .ADC_CODE_MIN_S(ADC_CODE_MIN_S), .ADC_CODE_MAX_S(ADC_CODE_MAX_S),
                .ADC_CODE_MIN_U(ADC_CODE_MIN_U), .ADC_CODE_MAX_U(ADC_CODE_MAX_U), .CELL_BITS(CELL_BITS),
                .SLICES(SLICES), .GW(GW), .SUMW(SUMW),
                .ACT_LANES(ACT_LANES), .KIND(L_KIND[l*F +: F]), .IN_FEAT(L_IN[l*F +: F]),
                .OUT_FEAT(L_OUT[l*F +: F]), .NC(L_NC[l*F +: F]), .T(L_T[l*F +: F]), .U(L_U[l*F +: F]),
                .COLS_LAST(L_COLS_LAST[l*F +: F]), .GROUP(L_GROUP[l*F +: F]), .N_GROUPS(L_NGROUPS[l*F +: F]),
                .ROUNDS(L_ROUNDS[l*F +: F]), .ASTEPS(L_ASTEPS[l*F +: F]), .P(L_P[l*F +: F]),
                .HO(L_HO[l*F +: F]), .WO(L_WO[l*F +: F]), .H(L_H[l*F +: F]),
                .W(L_W[l*F +: F]), .KH(L_KH[l*F +: F]), .KW(L_KW[l*F +: F]), .SH(L_SH[l*F +: F]),
                .SWD(L_SWD[l*F +: F]), .PH(L_PH[l*F +: F]), .PW(L_PW[l*F +: F]), .POOL(L_POOL[l*F +: F]),
                .PKH(L_PKH[l*F +: F]), .PKW(L_PKW[l*F +: F]), .HP(L_HP[l*F +: F]), .WP(L_WP[l*F +: F]),
                .INAW(INAW), .INBW(INBW), .INWL(INWL), .OUTAW(OUTAW), .OUTBW(OUTBW), .ACW(L_ACW[l*F +: F]),
                .OSIGNED(L_OSIGNED[l*F +: F]), .ADD(ASRC == 0 ? 0 : 1), .SKAW(SKAW), .SKBW(SKBW),
                .SKXW(L_SKXW[l*F +: F]), .SKSIGNED(L_SKSIGNED[l*F +: F]),
                .GBASE(L_GBASE[l*F +: F]), .TBASE(L_TBASE[l*F +: F]), .CBASE(L_CBASE[l*F +: F])
            ) u_layer (
                .clk(clk), .rst(rst), .stall(stall_reg), .host_we(host_we), .host_addr(host_addr),
                .host_wdata(host_wdata), .in_we(in_we), .in_waddr(in_waddr),
                .in_wdata(in_wdata), .in_wold(in_wold), .in_commit(in_commit_l), .in_free(l_in_free[l]),
                .sk_we(sk_we), .sk_waddr(sk_waddr), .sk_wdata(sk_wdata), .sk_commit(sk_commit),
                .sk_wold(sk_wold), .sk_free(l_sk_free[l]),
                .out_we(out_we), .out_waddr(out_waddr), .out_wdata(out_wdata), .out_wold(out_wold),
                .out_commit(o_commit[l]), .out_free(o_free[l]), .busy(l_busy[l]), .state(l_state[l*4 +: 4]),
                .ev_rows(l_ev_rows[l*32 +: 32]), .ev_reads(l_ev_reads[l*32 +: 32]),
                .ev_convs(l_ev_convs[l*32 +: 32]), .ev_adds(l_ev_adds[l*32 +: 32]),
                .ev_inreads(l_ev_inreads[l*32 +: 32]), .ev_outwrites(l_ev_outwrites[l*32 +: 32]),
                .ev_resadds(l_ev_resadds[l*32 +: 32])
            );
            for (k = 0; k < ACT_LANES; k = k + 1) begin : g_out
                assign o_we[l*ACT_LANES + k] = out_we[k];
                assign o_addr[(l*ACT_LANES + k)*32 +: 32] = {{(32-OUTAW){1'b0}}, out_waddr[k*OUTAW +: OUTAW]};
                // words zero-extended; signed codes sign-extended
                assign o_data[(l*ACT_LANES + k)*64 +: 64] = {{(64-OUTBW){L_OSIGNED[l*F +: F] != 0 &&
                                                               out_wdata[k*OUTBW + OUTBW - 1]}},
                                                             out_wdata[k*OUTBW +: OUTBW]};
                assign dbg_data[(l*ACT_LANES + k)*32 +: 32] = o_data[(l*ACT_LANES + k)*64 +: 32];
            end
        end
    endgenerate
    // debug view of every layer's output writes
    assign dbg_we = o_we;
    assign dbg_addr = o_addr;
    assign dbg_fin = o_commit;

    // ---------------------------------------------------------------- logit buffer (two banks) and argmax
    localparam LL = N_LAYERS - 1;
    reg [63:0]     logit_mem [0:(2 << LOAW)-1];
    reg [1:0]      lfull_reg;
    reg            lwbank_reg;
    reg            lrbank_reg;
    reg            lpend_reg;                // the last layer committed a bank last cycle
    reg            lpbank_reg;
    reg [LOAW-1:0] pred_reg [0:1];
    wire [ACT_LANES-1:0]      lo_we = o_we[LL*ACT_LANES +: ACT_LANES];
    wire [ACT_LANES*LOAW-1:0] lo_waddr;
    wire [ACT_LANES*64-1:0]   lo_wdata = o_data[LL*ACT_LANES*64 +: ACT_LANES*64];
    generate
        for (k = 0; k < ACT_LANES; k = k + 1) begin : g_lo
            assign lo_waddr[k*LOAW +: LOAW] = o_addr[(LL*ACT_LANES + k)*32 +: LOAW];
        end
    endgenerate
    wire lcommit = o_commit[LL];
    assign lfree = !lfull_reg[lwbank_reg];
    assign out_ready = lfull_reg[lrbank_reg];
    wire ack_ok = out_ack && out_ready;

    wire [LOAW-1:0] best_idx;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [63:0] best_value;
    /* verilator lint_on UNUSEDSIGNAL */
    reram_argmax #(.IW(LOAW), .LANES(ACT_LANES)) u_argmax (
        .clk(clk), .rst(rst), .clear(lpend_reg), .in_valid(lo_we), .in_idx(lo_waddr), .in_value(lo_wdata),
        .best_idx(best_idx), .best_value(best_value)
    );

    integer c;
    always @(posedge clk) begin
        for (c = 0; c < ACT_LANES; c = c + 1) begin
            if (lo_we[c]) logit_mem[{lwbank_reg, lo_waddr[c*LOAW +: LOAW]}] <= lo_wdata[c*64 +: 64];
        end
        if (rst) begin
            lfull_reg <= 2'b00;
            lwbank_reg <= 1'b0;
            lrbank_reg <= 1'b0;
            lpend_reg <= 1'b0;
            lpbank_reg <= 1'b0;
        end else begin
            lpend_reg <= lcommit;
            if (lcommit) begin
                lwbank_reg <= ~lwbank_reg;
                lpbank_reg <= lwbank_reg;
            end
            if (lpend_reg) begin  // the argmax has seen the last logit: the bank is ready for the host
                lfull_reg[lpbank_reg] <= 1'b1;
                pred_reg[lpbank_reg] <= best_idx;
            end
            if (ack_ok) begin
                lfull_reg[lrbank_reg] <= 1'b0;
                lrbank_reg <= ~lrbank_reg;
            end
        end
    end

    // ---------------------------------------------------------------- counters, protocol checker, host writes
    localparam CSW = $clog2(NCNT);  // counter index width
    reg [63:0] count_reg [0:NCNT-1];
    reg [31:0] cycles_reg;
    reg [31:0] inc_rows, inc_reads, inc_convs, inc_adds, inc_inreads, inc_outwrites, inc_resadds;
    integer n;
    always @(*) begin
        inc_rows = 32'd0;
        inc_reads = 32'd0;
        inc_convs = 32'd0;
        inc_adds = 32'd0;
        inc_inreads = 32'd0;
        inc_outwrites = 32'd0;
        inc_resadds = 32'd0;
        for (n = 0; n < N_LAYERS; n = n + 1) begin
            inc_rows = inc_rows + l_ev_rows[n*32 +: 32];
            inc_reads = inc_reads + l_ev_reads[n*32 +: 32];
            inc_convs = inc_convs + l_ev_convs[n*32 +: 32];
            inc_adds = inc_adds + l_ev_adds[n*32 +: 32];
            inc_inreads = inc_inreads + l_ev_inreads[n*32 +: 32];
            inc_outwrites = inc_outwrites + l_ev_outwrites[n*32 +: 32];
            inc_resadds = inc_resadds + l_ev_resadds[n*32 +: 32];
        end
    end
    assign busy = (|l_busy) || (|lfull_reg) || lpend_reg || (beat_reg != {BEATW{1'b0}});

    integer q;  // the counters' loop index (one per always block: a shared one has two drivers)
    always @(posedge clk) begin
        if (rst) begin
            stall_reg <= 1'b0;
            proto_err_reg <= 1'b0;
            cycles_reg <= 32'd0;
            for (q = 0; q < NCNT; q = q + 1) count_reg[q] <= 64'd0;
        end else begin
            if (host_we && region == R_REG && waddr == A_DEBUG) stall_reg <= host_wdata[B_DEBUG_STALL];
            // protocol checker: no memory writes while busy, no beat without in_ready, no ack without out_ready
            if ((host_we && busy && region != R_REG) || (in_valid && !in_ready) || (out_ack && !out_ready))
                proto_err_reg <= 1'b1;
            else if (clear_counts) proto_err_reg <= 1'b0;
            if (clear_counts) begin
                cycles_reg <= 32'd0;
                for (q = 0; q < NCNT; q = q + 1) count_reg[q] <= 64'd0;
            end else begin
                cycles_reg <= cycles_reg + 32'd1;
                count_reg[C_DAC_ROW_ACTIVATIONS] <= count_reg[C_DAC_ROW_ACTIVATIONS] + {32'd0, inc_rows};
                count_reg[C_ARRAY_READS] <= count_reg[C_ARRAY_READS] + {32'd0, inc_reads};
                count_reg[C_ADC_CONVERSIONS] <= count_reg[C_ADC_CONVERSIONS] + {32'd0, inc_convs};
                count_reg[C_SHIFT_ADDS] <= count_reg[C_SHIFT_ADDS] + {32'd0, inc_adds};
                count_reg[C_INPUT_BUFFER_READS] <= count_reg[C_INPUT_BUFFER_READS] + {32'd0, inc_inreads};
                count_reg[C_OUTPUT_BUFFER_WRITES] <= count_reg[C_OUTPUT_BUFFER_WRITES] + {32'd0, inc_outwrites};
                count_reg[C_RESIDUAL_ADDS] <= count_reg[C_RESIDUAL_ADDS] + {32'd0, inc_resadds};
                if (busy) count_reg[C_BUSY_CYCLES] <= count_reg[C_BUSY_CYCLES] + 64'd1;
            end
        end
    end

    // ---------------------------------------------------------------- host reads
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] waddr32 = {{REGION_W{1'b0}}, waddr};
    wire [31:0] cnt_sel = (waddr32 - {{REGION_W{1'b0}}, A_COUNT}) >> 1;
    wire [31:0] logit_sel = waddr32 >> 1;
    wire [63:0] logit_word = logit_mem[{lrbank_reg, logit_sel[LOAW-1:0]}];
    /* verilator lint_on UNUSEDSIGNAL */
    // the layer controllers' 4-bit states, 8 per word of the STATES window: STATES + k reads layers 8k .. 8k + 7
    // (unused slots read 0; padded only when there are fewer layers than slots, so any N_LAYERS up to NSLOT
    // elaborates)
    localparam NSLOT = 8 * STATE_WORDS;
    localparam SWW = $clog2(STATE_WORDS);
    wire [4*NSLOT-1:0] states_all;
    generate
        if (N_LAYERS < NSLOT) begin : g_states_pad
            assign states_all = {{(4 * (NSLOT - N_LAYERS)){1'b0}}, l_state};
        end else begin : g_states_full
            assign states_all = l_state[4*NSLOT-1:0];
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] state_sel = waddr32 - {{REGION_W{1'b0}}, A_STATES};
    /* verilator lint_on UNUSEDSIGNAL */
    wire [31:0] states_word = states_all[32*state_sel[SWW-1:0] +: 32];
    // the STATUS word: each flag at its bit of reram_addrmap.vh, the other bits 0
    reg [31:0] status_word;
    always @(*) begin
        status_word = 32'd0;
        status_word[B_STATUS_BUSY] = busy;
        status_word[B_STATUS_PROTOCOL_ERROR] = proto_err_reg;
        status_word[B_STATUS_OUT_READY] = out_ready;
        status_word[B_STATUS_IN_READY] = in_ready;
    end
    always @(*) begin
        host_rdata = 32'd0;
        if (region == R_REG) begin
            if (waddr == A_STATUS) host_rdata = status_word;
            else if (waddr == A_CYCLES) host_rdata = cycles_reg;
            else if (waddr == A_PRED) host_rdata = {{(32-LOAW){1'b0}}, pred_reg[lrbank_reg]};
            else if (state_sel < STATE_WORDS) host_rdata = states_word;  // STATES .. STATES + STATE_WORDS - 1
            else if (waddr >= A_COUNT && waddr < A_COUNT + 2 * NCNT)
                host_rdata = waddr[0] ? count_reg[cnt_sel[CSW-1:0]][63:32] : count_reg[cnt_sel[CSW-1:0]][31:0];
        end else if (region == R_LOGIT && waddr32 < 2 * N_LOGITS) begin
            host_rdata = waddr[0] ? logit_word[63:32] : logit_word[31:0];
        end
    end

endmodule

`default_nettype wire
