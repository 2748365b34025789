// reram_layer: one layer of the spatial accelerator. Every row tile x column tile of the layer is its own array
// (weights stay where they were programmed), with its own row input register and analog macro (crossbar, DACs,
// sample-and-holds, N_ADC converters: reram_analog_macro, a black box to synthesis); the arrays of
// a group read at once (all of them by default). Per output position the im2col address generators gather the
// position's row vector from the double-buffered input feature map (no unrolled matrix is stored); the ADC codes
// of the row tiles are added digitally into column accumulators; ACT_LANES activation lanes apply bias, ReLU and
// requantization and write the next layer's feature map through the pooling lanes (or the logits).
// A layer with a residual add (ADD) also holds its operand, another layer's output codes, in a double-buffered skip
// buffer; the activation lanes read it at the output's position and channel, and add it before the rounding.
// The input (and skip) bank is released and the output bank committed when the inference is done (FIN), so the
// layers form a pipeline. Synthesizable except the analog and buffer macros (marked behavioural in their files).
`default_nettype none

module reram_layer #(
    parameter LI = 0,             // layer index (host address decode of the layer settings)
    parameter LAST = 0,           // 1: the last layer (its outputs are 64-bit logits)
    parameter ROWS = 128,         // rows per array
    parameter PAIRS = 64,         // column pairs per array
    parameter N_ADC = 8,          // ADC lanes per array
    parameter ADC_LAT = 1,        // ADC latency (cycles)
    parameter ARRAY_LAT = 1,      // array read latency (cycles)
    parameter XW = 8,             // input code (DAC) bits
    parameter SLICE_BITS = 8,     // input bits per array read (XW: multi-level, 1: bit-serial)
    parameter N_INSL = 1,         // input slices
    parameter ADC_BITS = 8,       // ADC resolution
    parameter integer ADC_CODE_MIN_S = -128,  // ADC code ranges, signed and unipolar (reram_params.vh)
    parameter integer ADC_CODE_MAX_S = 127,
    parameter integer ADC_CODE_MIN_U = 0,
    parameter integer ADC_CODE_MAX_U = 255,
    parameter CELL_BITS = 4,      // bits per cell
    parameter SLICES = 1,         // cells per weight
    parameter GW = 12,            // conductance code width
    parameter SUMW = 32,          // signed column-sum width
    parameter ACT_LANES = 8,      // activation lanes
    parameter KIND = 0,           // 0 dense, 1 conv2d
    parameter IN_FEAT = 16,       // MVM rows (inputs, or C * KH * KW)
    parameter OUT_FEAT = 8,       // outputs (channels)
    parameter NC = 8,             // logical columns (OUT_FEAT * SLICES)
    parameter T = 1,              // row tiles
    parameter U = 1,              // column tiles
    parameter COLS_LAST = 8,      // columns of the last column tile's arrays
    parameter GROUP = 1,          // arrays read at once
    parameter N_GROUPS = 1,       // array groups
    parameter ROUNDS = 1,         // ADC rounds per array read
    parameter ASTEPS = 1,         // activation steps per position
    parameter P = 1,              // output positions
    parameter HO = 1,             // output rows
    parameter WO = 1,             // output columns
    parameter H = 1,              // input rows
    parameter W = 1,              // input columns
    parameter KH = 1,             // kernel rows
    parameter KW = 1,             // kernel columns
    parameter SH = 1,             // stride rows
    parameter SWD = 1,            // stride columns
    parameter PH = 0,             // padding rows
    parameter PW = 0,             // padding columns
    parameter POOL = 0,           // 0 none, 1 max, 2 avg
    parameter PKH = 1,            // pool window rows
    parameter PKW = 1,            // pool window columns
    parameter HP = 1,             // pooled rows
    parameter WP = 1,             // pooled columns
    parameter INAW = 4,           // input-buffer bank address width
    parameter INBW = 8,           // input-buffer word width
    parameter INWL = 8,           // input-buffer write lanes
    parameter OUTAW = 4,          // output-buffer bank address width
    parameter OUTBW = 8,          // output word width (64 for logits)
    parameter OSIGNED = 0,        // 1: signed output codes (XW + 1 bits; a projection shortcut's, read by adds only)
    parameter ADD = 0,            // 1: a residual add (the skip buffer and the add in the activation lanes)
    parameter SKAW = 1,           // skip-buffer bank address width
    parameter SKBW = 1,           // skip-buffer word width (the operand's source layer's output word)
    parameter SKXW = 1,           // width of an operand code (XW, or XW + 1 when its source's codes are signed)
    parameter SKSIGNED = 0,       // 1: the operand's codes are signed
    parameter ACW = 16,           // column-accumulator width
    parameter GBASE = 0,          // host word base of the conductance codes
    parameter TBASE = 0,          // host word base of the ADC multipliers
    parameter CBASE = 0           // host word base of the activation constants
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      stall,
    input  wire                      host_we,
    input  wire [31:0]               host_addr,
    input  wire [31:0]               host_wdata,
    input  wire [INWL-1:0]           in_we,
    input  wire [INWL*INAW-1:0]      in_waddr,
    input  wire [INWL*INBW-1:0]      in_wdata,
    output wire [INWL*INBW-1:0]      in_wold,
    input  wire                      in_commit,
    output wire                      in_free,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [ACT_LANES-1:0]      sk_we,       // the skip buffer's write lanes (the operand's source layer)
    input  wire [ACT_LANES*SKAW-1:0] sk_waddr,
    input  wire [ACT_LANES*SKBW-1:0] sk_wdata,
    input  wire                      sk_commit,   // unused without ADD
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [ACT_LANES*SKBW-1:0] sk_wold,
    output wire                      sk_free,
    output wire [ACT_LANES-1:0]      out_we,
    output wire [ACT_LANES*OUTAW-1:0] out_waddr,
    output wire [ACT_LANES*OUTBW-1:0] out_wdata,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [ACT_LANES*OUTBW-1:0] out_wold,   // unused by the last layer
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                      out_commit,
    input  wire                      out_free,
    output wire                      busy,
    output wire [3:0]                state,
    output wire [31:0]               ev_rows,
    output wire [31:0]               ev_reads,
    output wire [31:0]               ev_convs,
    output wire [31:0]               ev_adds,
    output wire [31:0]               ev_inreads,
    output wire [31:0]               ev_outwrites,
    output wire [31:0]               ev_resadds
);

    /* verilator lint_off UNUSEDPARAM */
`include "reram_addrmap.vh"
`include "reram_rules.vh"
    /* verilator lint_on UNUSEDPARAM */

    wire [REGION_W-1:0] host_region = host_addr[ADDR_W-1:WORD_W];
    wire [WORD_W-1:0]   host_waddr = host_addr[WORD_W-1:0];

    localparam CW = 16;                                  // position coordinate width
    localparam GRW = $clog2(N_GROUPS + 1);               // group index width
    localparam KRW = $clog2(ROUNDS + 1);                 // round index width
    localparam STW = $clog2(ASTEPS + 1);                 // activation step width
    localparam SIW = (ASTEPS > 1) ? $clog2(ASTEPS) : 1;  // index width of a lane's constants
    localparam TAW = $clog2(T + 1);                      // row tile index width
    localparam CODEW = ADC_BITS + 1;                     // signed ADC code width
    localparam AACW = ACW + CELL_BITS * (SLICES - 1) + 1;  // accumulator width of one output (slices combined)
    localparam NARR = T * U;                             // arrays
    localparam NLANE = U * N_ADC;                        // column-accumulator add ports
    localparam RDP = ACT_LANES * SLICES;                 // column-accumulator read ports
    localparam CNTW = $clog2(ROWS + 1);                  // width of a row count
    localparam PK = PKH * PKW;                           // cells per pool window
    localparam OCW = XW + OSIGNED;                       // output code width
    localparam SKW = SKXW + 1 - SKSIGNED;                // width of the signed operand (unsigned codes: a 0 on top)

    // ---------------------------------------------------------------- buffer handshake (input side)
    reg [1:0] full_reg;
    reg       wbank_reg;
    reg       rbank_reg;
    wire      fin;
    assign in_free = !full_reg[wbank_reg];
    wire skip_full;                                       // the skip bank of this inference is full (1 without ADD)
    wire go = full_reg[rbank_reg] && skip_full && out_free;
    always @(posedge clk) begin
        if (rst) begin
            full_reg <= 2'b00;
            wbank_reg <= 1'b0;
            rbank_reg <= 1'b0;
        end else begin
            // a committed bank becomes full and writes move to the other; a finished bank is freed and reads move on
            if (in_commit) {full_reg[wbank_reg], wbank_reg} <= {1'b1, ~wbank_reg};
            if (fin) {full_reg[rbank_reg], rbank_reg} <= {1'b0, ~rbank_reg};
        end
    end

    // ---------------------------------------------------------------- controller
    wire           latch, xbar_start, adc_issue, act_valid;
    wire [GRW-1:0] group;
    wire [3:0]     bit_idx;
    wire [KRW-1:0] round_idx;
    wire [STW-1:0] step;
    wire [CW-1:0]  oy, ox, gy, gx;
    reram_layer_ctrl #(.P(P), .WO(WO), .N_GROUPS(N_GROUPS), .N_INSL(N_INSL), .ARRAY_LAT(ARRAY_LAT),
                       .ADC_LAT(ADC_LAT), .ROUNDS(ROUNDS), .ASTEPS(ASTEPS), .CW(CW), .GRW(GRW), .KW(KRW),
                       .STW(STW)) u_ctrl (
        .clk(clk), .rst(rst), .stall(stall), .go(go), .state(state), .busy(busy), .latch(latch),
        .xbar_start(xbar_start), .adc_issue(adc_issue), .act_valid(act_valid), .fin(fin), .group(group),
        .bit_idx(bit_idx), .round_idx(round_idx), .step(step), .oy(oy), .ox(ox), .gy(gy), .gx(gx)
    );
    assign out_commit = fin;

    // ---------------------------------------------------------------- host-loaded constants
    // (the activation constants sit in the activation lanes: lane a holds those of outputs j * ACT_LANES + a)
    reg [ADC_MULT_W-1:0]  adc_mult_mem [0:(1<<TAW)-1];
    reg [ADC_SHIFT_W-1:0] adc_shift_reg;
    reg                   adc_signed_reg;
    reg [REQ_SHIFT_W-1:0] req_shift_reg;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [REQ_MULT_W-1:0]  add_mult_reg;                  // the residual add's multiplier (unused without ADD)
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] hw32 = {{REGION_W{1'b0}}, host_waddr};
    wire [31:0] t_off = hw32 - TBASE;
    wire [31:0] c_off = hw32 - CBASE;
    /* verilator lint_on UNUSEDSIGNAL */
    wire t_hit = t_off < T;          // unsigned: below the base wraps around to a large offset
    wire c_hit = c_off < OUT_FEAT;
    always @(posedge clk) begin
        if (host_we) begin
            if (host_region == R_ADC && t_hit) adc_mult_mem[t_off[TAW-1:0]] <= host_wdata[ADC_MULT_W-1:0];
            if (host_region == R_LAYER && hw32 == SET_STRIDE * LI + SET_ADC_SHIFT)
                adc_shift_reg <= host_wdata[ADC_SHIFT_W-1:0];
            if (host_region == R_LAYER && hw32 == SET_STRIDE * LI + SET_ADC_SIGNED) adc_signed_reg <= host_wdata[0];
            if (host_region == R_LAYER && hw32 == SET_STRIDE * LI + SET_REQ_SHIFT)
                req_shift_reg <= host_wdata[REQ_SHIFT_W-1:0];
            if (host_region == R_LAYER && hw32 == SET_STRIDE * LI + SET_ADD_MULT)
                add_mult_reg <= host_wdata[REQ_MULT_W-1:0];
        end
    end

    // ---------------------------------------------------------------- input feature buffer and im2col gather
    wire [T*ROWS*INAW-1:0] raddr;
    wire [T*ROWS-1:0]      rvalid;
    wire [T*ROWS*XW-1:0]   rcode;
    reram_fbuf #(.AW(INAW), .BW(INBW), .XW(XW), .WL(INWL), .RP(T*ROWS)) u_buf (
        .clk(clk), .wbank(wbank_reg), .rbank(rbank_reg), .we(in_we), .waddr(in_waddr), .wdata(in_wdata),
        .wold(in_wold), .raddr(raddr), .rdata(rcode)
    );

    // ---------------------------------------------------------------- skip buffer (residual add's operand)
    // lane a reads the operand of output o = step * ACT_LANES + a at the position the activation lanes produce:
    // word o * HO * WO + oy * WO + ox of the operand's (C, H, W) map (o of a dense layer)
    wire [ACT_LANES*SKXW-1:0] sk_rcode;
    genvar sl;
    generate
        if (ADD != 0) begin : g_skip
            reg [1:0] sk_full_reg;
            reg       sk_wbank_reg;
            reg       sk_rbank_reg;
            wire [ACT_LANES*SKAW-1:0] sk_raddr;
            assign sk_free = !sk_full_reg[sk_wbank_reg];
            assign skip_full = sk_full_reg[sk_rbank_reg];
            always @(posedge clk) begin
                if (rst) begin
                    sk_full_reg <= 2'b00;
                    sk_wbank_reg <= 1'b0;
                    sk_rbank_reg <= 1'b0;
                end else begin
                    if (sk_commit) {sk_full_reg[sk_wbank_reg], sk_wbank_reg} <= {1'b1, ~sk_wbank_reg};
                    if (fin) {sk_full_reg[sk_rbank_reg], sk_rbank_reg} <= {1'b0, ~sk_rbank_reg};
                end
            end
            for (sl = 0; sl < ACT_LANES; sl = sl + 1) begin : g_sk_addr
                /* verilator lint_off UNUSEDSIGNAL */
                wire [31:0] o = {{(32-STW){1'b0}}, step} * ACT_LANES + sl;
                wire [31:0] ra = (KIND == 0) ? o : o * (HO * WO) + {{(32-CW){1'b0}}, oy} * WO +
                                 {{(32-CW){1'b0}}, ox};
                /* verilator lint_on UNUSEDSIGNAL */
                assign sk_raddr[sl*SKAW +: SKAW] = ra[SKAW-1:0];
            end
            reram_fbuf #(.AW(SKAW), .BW(SKBW), .XW(SKXW), .WL(ACT_LANES), .RP(ACT_LANES)) u_skip (
                .clk(clk), .wbank(sk_wbank_reg), .rbank(sk_rbank_reg), .we(sk_we), .waddr(sk_waddr),
                .wdata(sk_wdata), .wold(sk_wold), .raddr(sk_raddr), .rdata(sk_rcode)
            );
        end else begin : g_noskip
            assign sk_free = 1'b1;
            assign skip_full = 1'b1;
            assign sk_wold = {ACT_LANES*SKBW{1'b0}};
            assign sk_rcode = {ACT_LANES*SKXW{1'b0}};
        end
    endgenerate

    // ---------------------------------------------------------------- row registers and analog macros
    wire [NARR*N_ADC-1:0]       adc_valid;
    wire [NARR*N_ADC*CODEW-1:0] adc_code;
    wire [NARR-1:0]             started;
    wire [NARR*CNTW-1:0]        active_rows;
    wire [NARR*N_ADC-1:0]       lane_on;
    genvar t, u, k;
    generate
        for (t = 0; t < T; t = t + 1) begin : g_t
            reram_addrgen #(.TI(t), .ROWS(ROWS), .IN_FEAT(IN_FEAT), .CONV(KIND), .H(H), .W(W), .KH(KH),
                            .KW(KW), .SH(SH), .SWD(SWD), .PH(PH), .PW(PW), .AW(INAW), .CW(CW)) u_ag (
                .oy(gy), .ox(gx), .addr(raddr[t*ROWS*INAW +: ROWS*INAW]), .valid(rvalid[t*ROWS +: ROWS])
            );
            wire [ROWS*XW-1:0] tile_codes;
            for (k = 0; k < ROWS; k = k + 1) begin : g_gate
                assign tile_codes[k*XW +: XW] = rvalid[t*ROWS + k] ? rcode[(t*ROWS + k)*XW +: XW] : {XW{1'b0}};
            end
            localparam integer USED = (IN_FEAT - t * ROWS > ROWS) ? ROWS : IN_FEAT - t * ROWS;
            for (u = 0; u < U; u = u + 1) begin : g_u
                localparam integer A = t * U + u;                       // array index
                localparam integer COLS = (u == U - 1) ? COLS_LAST : PAIRS;
                localparam [31:0] ABASE = GBASE + (t * NC + u * PAIRS) * ROWS;  // host word base of this array
                localparam [31:0] GRP = A / GROUP;
                wire in_group = {{(32-GRW){1'b0}}, group} == GRP;
                assign started[A] = xbar_start && in_group;
                wire [ROWS*XW-1:0] drive;
                reram_row_reg #(.ROWS(ROWS), .XW(XW), .SLICE_BITS(SLICE_BITS), .CNTW(CNTW)) u_rows (
                    .clk(clk), .rst(rst), .latch(latch), .codes_in(tile_codes), .used_rows(USED[CNTW-1:0]),
                    .bit_sel(bit_idx), .drive(drive), .active_rows(active_rows[A*CNTW +: CNTW])
                );
                /* verilator lint_off UNUSEDSIGNAL */
                wire [31:0] woff = hw32 - ABASE;
                /* verilator lint_on UNUSEDSIGNAL */
                wire        whit = host_we && woff < COLS * ROWS;
                localparam GAW = $clog2(ROWS * PAIRS);
                localparam [31:0] COLS32 = COLS;
                localparam [7:0] NCOLS8 = COLS32[7:0];
                for (k = 0; k < N_ADC; k = k + 1) begin : g_lane
                    // converter k converts column r * N_ADC + k of the array in round r (the macro's column mux)
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [31:0] col = {{(32-KRW){1'b0}}, round_idx} * N_ADC + k;
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign lane_on[A*N_ADC + k] = adc_issue && in_group && col < COLS;
                end
                reram_analog_macro #(.ROWS(ROWS), .PAIRS(PAIRS), .XW(XW), .GW(GW), .SW(SUMW), .GAW(GAW),
                                     .ARRAY_LAT(ARRAY_LAT), .N_ADC(N_ADC), .RW(KRW), .ADC_BITS(ADC_BITS),
                                     .CODE_MIN_S(ADC_CODE_MIN_S), .CODE_MAX_S(ADC_CODE_MAX_S),
                                     .CODE_MIN_U(ADC_CODE_MIN_U), .CODE_MAX_U(ADC_CODE_MAX_U), .ADC_LAT(ADC_LAT),
                                     .MW(ADC_MULT_W), .SHW(ADC_SHIFT_W), .PRELOAD_ID(ABASE)) u_macro (
                    .clk(clk), .rst(rst), .wr_pos(whit && host_region == R_GPOS),
                    .wr_neg(whit && host_region == R_GNEG), .wr_addr(woff[GAW-1:0]), .wr_data(host_wdata[GW-1:0]),
                    .start(started[A]), .ncols(NCOLS8), .drive(drive), .round(round_idx),
                    .convert(lane_on[A*N_ADC +: N_ADC]), .mult(adc_mult_mem[t]), .shift(adc_shift_reg),
                    .is_signed(adc_signed_reg), .code_valid(adc_valid[A*N_ADC +: N_ADC]),
                    .codes(adc_code[A*N_ADC*CODEW +: N_ADC*CODEW])
                );
            end
        end
    endgenerate

    // the round and bit of the conversions in flight (the ADC pipeline is ADC_LAT deep)
    reg [KRW*ADC_LAT-1:0] round_pipe;
    reg [4*ADC_LAT-1:0]   bit_pipe;
    integer d;
    always @(posedge clk) begin
        round_pipe[KRW-1:0] <= round_idx;
        bit_pipe[3:0] <= bit_idx;
        for (d = 1; d < ADC_LAT; d = d + 1) begin
            round_pipe[d*KRW +: KRW] <= round_pipe[(d-1)*KRW +: KRW];
            bit_pipe[d*4 +: 4] <= bit_pipe[(d-1)*4 +: 4];
        end
    end
    wire [KRW-1:0] round_out = round_pipe[(ADC_LAT-1)*KRW +: KRW];
    /* verilator lint_off UNUSEDSIGNAL */
    wire [3:0]     bit_out = bit_pipe[(ADC_LAT-1)*4 +: 4];
    /* verilator lint_on UNUSEDSIGNAL */

    // ---------------------------------------------------------------- partial sums of the row tiles -> columns
    wire [NLANE-1:0]     add_en;
    wire [NLANE*ACW-1:0] add_val;
    generate
        for (u = 0; u < U; u = u + 1) begin : g_sum_u
            for (k = 0; k < N_ADC; k = k + 1) begin : g_sum_k
                reg signed [ACW-1:0] s;
                reg                  any;
                integer i;
                always @(*) begin
                    s = {ACW{1'b0}};
                    any = 1'b0;
                    for (i = 0; i < T; i = i + 1) begin
                        if (adc_valid[(i*U + u)*N_ADC + k]) begin
                            s = s + {{(ACW-CODEW){adc_code[((i*U + u)*N_ADC + k)*CODEW + CODEW - 1]}},
                                     adc_code[((i*U + u)*N_ADC + k)*CODEW +: CODEW]};
                            any = 1'b1;
                        end
                    end
                end
                assign add_en[u*N_ADC + k] = any;
                assign add_val[(u*N_ADC + k)*ACW +: ACW] = (SLICE_BITS < XW) ? (s <<< (bit_out * SLICE_BITS)) : s;
            end
        end
    endgenerate

    // ---------------------------------------------------------------- column accumulators
    wire [RDP*ACW-1:0] rd_data;
    reram_colacc #(.LANES(NLANE), .N_ADC(N_ADC), .PAIRS(PAIRS), .DEPTH(ROUNDS), .RW(KRW), .ACW(ACW),
                   .ACT_LANES(ACT_LANES), .SLICES(SLICES), .ASTEPS(ASTEPS), .STW(STW)) u_acc (
        .clk(clk), .rst(rst), .clear(latch), .add_en(add_en), .add_round(round_out), .add_val(add_val),
        .rd_step(step), .rd_data(rd_data)
    );

    // ---------------------------------------------------------------- activation and pooling lanes
    reg [STW-1:0] step_r;
    reg [CW-1:0]  oy_r, ox_r;
    always @(posedge clk) begin
        step_r <= step;
        oy_r <= oy;
        ox_r <= ox;
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] oy32 = {{(32-CW){1'b0}}, oy_r};
    wire [31:0] ox32 = {{(32-CW){1'b0}}, ox_r};
    /* verilator lint_on UNUSEDSIGNAL */
    wire in_window = (POOL == 0) || (oy32 < HP * PKH && ox32 < WP * PKW);
    /* verilator lint_off UNUSEDSIGNAL */
    wire pool_first = (oy32 % PKH == 0) && (ox32 % PKW == 0);
    wire pool_last = (oy32 % PKH == PKH - 1) && (ox32 % PKW == PKW - 1);
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] pos_addr = (KIND == 0) ? 32'd0 : (POOL != 0) ? (oy32 / PKH) * WP + ox32 / PKW : oy32 * WO + ox32;
    /* verilator lint_on UNUSEDSIGNAL */
    localparam integer PLANE = (KIND == 0) ? 1 : (POOL != 0) ? HP * WP : HO * WO;  // words per output channel

    // outputs written this cycle: 0 .. ACT_LANES (up to 64 lanes: as wide as that count, never wrapping)
    localparam OWW = $clog2(ACT_LANES + 1);
    reg [OWW-1:0] cnt_outw;
    integer m;
    always @(*) begin
        cnt_outw = {OWW{1'b0}};
        for (m = 0; m < ACT_LANES; m = m + 1)
            if (act_out_valid[m]) cnt_outw = cnt_outw + 1'b1;
    end
    wire [ACT_LANES-1:0] act_out_valid;

    genvar a;
    generate
        for (a = 0; a < ACT_LANES; a = a + 1) begin : g_act
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] o = {{(32-STW){1'b0}}, step} * ACT_LANES + a;       // output of this lane now
            wire [31:0] o_r = {{(32-STW){1'b0}}, step_r} * ACT_LANES + a;   // output of this lane's result
            /* verilator lint_on UNUSEDSIGNAL */
            reg signed [AACW-1:0] acc_o;
            integer q;
            // this lane's activation constants: entry j belongs to output j * ACT_LANES + a
            reg [REQ_MULT_W-1:0] mult_mem [0:ASTEPS-1];
            reg [REQ_BIAS_W-1:0] bias_mem [0:ASTEPS-1];
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] lane_of = c_off % ACT_LANES;
            wire [31:0] step_of = c_off / ACT_LANES;
            /* verilator lint_on UNUSEDSIGNAL */
            wire c_mine = host_we && c_hit && lane_of == a && step_of < ASTEPS;
            always @(posedge clk) begin
                if (c_mine && host_region == R_RMULT) mult_mem[step_of[SIW-1:0]] <= host_wdata[REQ_MULT_W-1:0];
                if (c_mine && host_region == R_RBLO) bias_mem[step_of[SIW-1:0]][31:0] <= host_wdata;
                if (c_mine && host_region == R_RBHI)
                    bias_mem[step_of[SIW-1:0]][REQ_BIAS_W-1:32] <= host_wdata[REQ_BIAS_W-33:0];
            end
            wire [REQ_MULT_W-1:0] mult_now = mult_mem[step[SIW-1:0]];
            wire [REQ_BIAS_W-1:0] bias_now = bias_mem[step[SIW-1:0]];
            always @(*) begin
                acc_o = {AACW{1'b0}};
                for (q = 0; q < SLICES; q = q + 1) begin
                    acc_o = acc_o + ({{(AACW-ACW){rd_data[(a*SLICES + q)*ACW + ACW - 1]}},
                                      rd_data[(a*SLICES + q)*ACW +: ACW]} <<< (q * CELL_BITS));
                end
            end
            wire          v = act_valid && (o < OUT_FEAT);
            /* verilator lint_off UNUSEDSIGNAL */
            wire [OCW-1:0] code;           // hidden layers
            wire signed [63:0] logit;      // the last layer
            /* verilator lint_on UNUSEDSIGNAL */
            wire [SKXW-1:0] sk_code = sk_rcode[a*SKXW +: SKXW];
            wire [SKW-1:0]  sk_val;        // the operand as a signed number
            if (SKSIGNED != 0) begin : g_sks
                assign sk_val = sk_code;
            end else begin : g_sku
                assign sk_val = {1'b0, sk_code};
            end
            reram_act #(.ACC_W(AACW), .XW(XW), .ADD(ADD), .SKW(SKW), .OSIGNED(OSIGNED)) u_act (
                .clk(clk), .rst(rst), .in_valid(v), .acc(acc_o), .mult(mult_now),
                .bias(bias_now), .shift(req_shift_reg), .skip(sk_val), .add_mult(add_mult_reg),
                .out_valid(act_out_valid[a]), .out_code(code), .out_logit(logit)
            );
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] waddr = o_r * PLANE + pos_addr;
            /* verilator lint_on UNUSEDSIGNAL */
            assign out_we[a] = act_out_valid[a] && in_window;
            assign out_waddr[a*OUTAW +: OUTAW] = waddr[OUTAW-1:0];
            if (LAST != 0) begin : g_logit
                assign out_wdata[a*OUTBW +: OUTBW] = logit[OUTBW-1:0];
            end else begin : g_code
                reram_pool #(.POOL(POOL), .PK(PK), .XW(OCW), .BW(OUTBW)) u_pool (
                    .code(code), .kept(out_wold[a*OUTBW +: OUTBW]), .first(pool_first), .last(pool_last),
                    .out(out_wdata[a*OUTBW +: OUTBW])
                );
            end
        end
    endgenerate

    // ---------------------------------------------------------------- event counts (this cycle)
    localparam EW = $clog2(NARR * N_ADC + 1);            // width of a per-cycle lane count
    localparam RWW = $clog2(NARR * ROWS + 1);            // width of a per-cycle row count
    reg [RWW-1:0] n_rows;
    reg [EW-1:0]  n_reads, n_convs, n_adds;
    integer e;
    always @(*) begin
        n_rows = {RWW{1'b0}};
        n_reads = {EW{1'b0}};
        n_convs = {EW{1'b0}};
        n_adds = {EW{1'b0}};
        for (e = 0; e < NARR; e = e + 1) begin
            if (started[e]) begin
                n_reads = n_reads + 1'b1;
                n_rows = n_rows + {{(RWW-CNTW){1'b0}}, active_rows[e*CNTW +: CNTW]};
            end
        end
        for (e = 0; e < NARR * N_ADC; e = e + 1) begin
            n_convs = n_convs + {{(EW-1){1'b0}}, lane_on[e]};
            n_adds = n_adds + {{(EW-1){1'b0}}, adc_valid[e]};
        end
    end
    assign ev_rows = {{(32-RWW){1'b0}}, n_rows};
    assign ev_reads = {{(32-EW){1'b0}}, n_reads};
    assign ev_convs = {{(32-EW){1'b0}}, n_convs};
    assign ev_adds = {{(32-EW){1'b0}}, n_adds};
    assign ev_inreads = latch ? IN_FEAT : 32'd0;
    assign ev_outwrites = {{(32-OWW){1'b0}}, cnt_outw};
    assign ev_resadds = (ADD != 0) ? ev_outwrites : 32'd0;

endmodule

`default_nettype wire
