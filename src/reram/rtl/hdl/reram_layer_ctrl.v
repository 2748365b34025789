// reram_layer_ctrl: the controller FSM of one layer. For each inference it walks the layer's output positions
// (row-major over HO x WO; one position for a dense layer). Per position: LATCH the im2col row vector into the DACs
// of all arrays, then per array group and input slice READ the arrays (ARRAY_LAT cycles) and CONVert their columns
// (ROUNDS x ADC_LAT cycles), DRAIN the ADC pipeline, and run the activation lanes (ASTEPS cycles). FIN commits the
// output buffer and releases the input buffer. Registered _reg/_next style. Synthesizable.
//
// The row vector of every position after the first is latched during the previous position's last activation
// step (the arrays are idle then; the column accumulators are read before that edge clears them), so only the first
// position has a LATCH cycle of its own. gy / gx give the position being latched.
// Cycles per inference, LATCH through FIN (layer_cycles in reram/ir/machine.py computes the same):
//   1 + P * (N_GROUPS * N_INSL * (ARRAY_LAT + ROUNDS * ADC_LAT) + 1 + ASTEPS) + 1.
// A layer starts (LATCH) one cycle after it sees go (input bank full, output bank free) in IDLE.
`default_nettype none

module reram_layer_ctrl #(
    parameter P = 1,            // output positions per inference
    parameter WO = 1,           // output columns (positions are row-major over rows x WO)
    parameter N_GROUPS = 1,     // array groups read one after the other
    parameter N_INSL = 1,       // input slices (bits) per array read sequence
    parameter ARRAY_LAT = 1,    // array read latency (cycles, >= 1)
    parameter ADC_LAT = 1,      // ADC conversion latency (cycles, >= 1)
    parameter ROUNDS = 1,       // ADC rounds per array read
    parameter ASTEPS = 1,       // activation steps per position
    parameter CW = 16,          // width of the position coordinates
    parameter GRW = 8,          // group index width
    parameter KW = 8,           // round index width
    parameter STW = 8           // activation step width
) (
    input  wire           clk,
    input  wire           rst,
    input  wire           stall,      // test hook: freezes the controller (exercises the watchdog)
    input  wire           go,         // input bank full and output bank free
    output wire [3:0]     state,
    output wire           busy,
    output wire           latch,      // latch the position's row vector; clear the column accumulators
    output wire           xbar_start, // start an array read (arrays of the current group)
    output wire           adc_issue,  // issue one ADC round
    output wire           act_valid,  // one activation step
    output wire           fin,        // commit the output bank, release the input bank
    output wire [GRW-1:0] group,
    output wire [3:0]     bit_idx,
    output wire [KW-1:0]  round_idx,
    output wire [STW-1:0] step,
    output wire [CW-1:0]  oy,         // position whose results the activation lanes produce
    output wire [CW-1:0]  ox,
    output wire [CW-1:0]  gy,         // position whose row vector is latched
    output wire [CW-1:0]  gx
);

    localparam [3:0] S_IDLE = 4'd0, S_LATCH = 4'd1, S_READ = 4'd2, S_CONV = 4'd3, S_DRAIN = 4'd4, S_ACT = 4'd5,
                     S_FIN = 4'd6;

    reg [3:0]     state_reg, state_next;
    reg [GRW-1:0] group_reg, group_next;
    reg [3:0]     bit_reg, bit_next;
    reg [KW-1:0]  round_reg, round_next;
    reg [STW-1:0] step_reg, step_next;
    reg [7:0]     cnt_reg, cnt_next;
    reg [31:0]    pos_reg, pos_next;
    reg [CW-1:0]  oy_reg, oy_next;
    reg [CW-1:0]  ox_reg, ox_next;

    /* verilator lint_off WIDTHEXPAND */
    wire last_round = round_reg == ROUNDS - 1;
    wire last_bit = bit_reg == N_INSL - 1;
    wire last_group = group_reg == N_GROUPS - 1;
    wire last_step = step_reg == ASTEPS - 1;
    wire last_pos = pos_reg == P - 1;
    wire last_col = ox_reg == WO - 1;
    wire read_done = cnt_reg == ARRAY_LAT - 1;
    /* verilator lint_on WIDTHEXPAND */
    wire [CW-1:0] next_ox = last_col ? {CW{1'b0}} : ox_reg + 1'b1;
    wire [CW-1:0] next_oy = last_col ? oy_reg + 1'b1 : oy_reg;
    /* verilator lint_off WIDTHEXPAND */
    wire conv_done = cnt_reg == ADC_LAT - 1;
    /* verilator lint_on WIDTHEXPAND */

    always @(*) begin
        state_next = state_reg;
        group_next = group_reg;
        bit_next = bit_reg;
        round_next = round_reg;
        step_next = step_reg;
        cnt_next = cnt_reg;
        pos_next = pos_reg;
        oy_next = oy_reg;
        ox_next = ox_reg;
        if (!stall) begin
            case (state_reg)
                S_IDLE: begin
                    if (go) begin
                        state_next = S_LATCH;
                        pos_next = 32'd0;
                        oy_next = {CW{1'b0}};
                        ox_next = {CW{1'b0}};
                    end
                end
                S_LATCH: begin
                    state_next = S_READ;
                    group_next = {GRW{1'b0}};
                    bit_next = 4'd0;
                    cnt_next = 8'd0;
                end
                S_READ: begin
                    if (read_done) begin
                        state_next = S_CONV;
                        round_next = {KW{1'b0}};
                        cnt_next = 8'd0;
                    end else begin
                        cnt_next = cnt_reg + 8'd1;
                    end
                end
                S_CONV: begin
                    if (conv_done) begin
                        cnt_next = 8'd0;
                        if (!last_round) begin
                            round_next = round_reg + 1'b1;
                        end else if (!last_bit) begin
                            bit_next = bit_reg + 4'd1;
                            state_next = S_READ;
                        end else if (!last_group) begin
                            group_next = group_reg + 1'b1;
                            bit_next = 4'd0;
                            state_next = S_READ;
                        end else begin
                            state_next = S_DRAIN;
                        end
                    end else begin
                        cnt_next = cnt_reg + 8'd1;
                    end
                end
                S_DRAIN: begin
                    state_next = S_ACT;
                    step_next = {STW{1'b0}};
                end
                S_ACT: begin
                    if (last_step) begin
                        if (last_pos) begin
                            state_next = S_FIN;
                        end else begin  // the next position's row vector is latched in this cycle
                            state_next = S_READ;
                            group_next = {GRW{1'b0}};
                            bit_next = 4'd0;
                            cnt_next = 8'd0;
                            pos_next = pos_reg + 32'd1;
                            ox_next = next_ox;
                            oy_next = next_oy;
                        end
                    end else begin
                        step_next = step_reg + 1'b1;
                    end
                end
                S_FIN: state_next = S_IDLE;
                default: state_next = S_IDLE;
            endcase
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            state_reg <= S_IDLE;
            group_reg <= {GRW{1'b0}};
            bit_reg <= 4'd0;
            round_reg <= {KW{1'b0}};
            step_reg <= {STW{1'b0}};
            cnt_reg <= 8'd0;
            pos_reg <= 32'd0;
            oy_reg <= {CW{1'b0}};
            ox_reg <= {CW{1'b0}};
        end else begin
            state_reg <= state_next;
            group_reg <= group_next;
            bit_reg <= bit_next;
            round_reg <= round_next;
            step_reg <= step_next;
            cnt_reg <= cnt_next;
            pos_reg <= pos_next;
            oy_reg <= oy_next;
            ox_reg <= ox_next;
        end
    end

    assign state = state_reg;
    assign busy = state_reg != S_IDLE;
    wire   early = (state_reg == S_ACT) && last_step && !last_pos;  // latch the next position now
    assign latch = ((state_reg == S_LATCH) || early) && !stall;
    assign xbar_start = (state_reg == S_READ) && (cnt_reg == 8'd0) && !stall;
    assign adc_issue = (state_reg == S_CONV) && (cnt_reg == 8'd0) && !stall;
    assign act_valid = (state_reg == S_ACT) && !stall;
    assign fin = (state_reg == S_FIN) && !stall;
    assign group = group_reg;
    assign bit_idx = bit_reg;
    assign round_idx = round_reg;
    assign step = step_reg;
    assign oy = oy_reg;
    assign ox = ox_reg;
    assign gy = early ? next_oy : oy_reg;
    assign gx = early ? next_ox : ox_reg;

endmodule

`default_nettype wire
