// reram_ctrl: the controller FSM. Sequences layers, row tiles, column tiles (arrays), input slices (bits)
// and ADC rounds, then the activation unit over the layer's outputs. Layer sizes come from the generated
// parameter header. Registered _reg/_next style. Synthesizable.
//
// Cycles per inference (the analytic model, layer_cycles in reram/rtl/params.py, computes the same):
//   sum over layers of [ 1 (LAYER) + sum over row tiles of ( 1 (LATCH) + sum over arrays and input slices of
//   (ARRAY_LAT + rounds * ADC_LAT) ) + 1 (DRAIN) + outputs (ACT) ] + 1 (FINISH),
//   with rounds = ceil(columns of the array / N_ADC).
`default_nettype none

module reram_ctrl #(
    parameter LW = 4,         // layer index width
    parameter TW = 8,         // tile index width
    parameter KW = 8,         // ADC round index width
    parameter AW = 10         // feature index width
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire          stall,      // test hook: freezes a running inference (exercises the watchdog)
    output wire [3:0]    state,
    output wire          busy,
    output wire          done,
    output wire [LW-1:0] layer,
    output wire [TW-1:0] tile,
    output wire [TW-1:0] ctile,
    output wire [3:0]    bit_idx,
    output wire [KW-1:0] round_idx,
    output wire [AW-1:0] act_idx,
    output wire [7:0]    cols,
    output wire          clr_acc,
    output wire          latch,
    output wire          xbar_start,
    output wire          adc_issue,
    output wire          act_valid,
    output wire          last_layer
);

    /* verilator lint_off UNUSEDPARAM */
`include "reram_params.vh"
    /* verilator lint_on UNUSEDPARAM */

    localparam [3:0] S_IDLE = 4'd0, S_LAYER = 4'd1, S_LATCH = 4'd2, S_READ = 4'd3, S_CONV = 4'd4,
                     S_DRAIN = 4'd5, S_ACT = 4'd6, S_FINISH = 4'd7, S_DONE = 4'd8;

    reg [3:0]    state_reg, state_next;
    reg [LW-1:0] layer_reg, layer_next;
    reg [TW-1:0] tile_reg, tile_next;
    reg [TW-1:0] ctile_reg, ctile_next;
    reg [3:0]    bit_reg, bit_next;
    reg [KW-1:0] round_reg, round_next;
    reg [AW-1:0] act_reg, act_next;
    reg [7:0]    cnt_reg, cnt_next;

    wire [15:0] n_out   = L_OUT[layer_reg*16 +: 16];
    wire [15:0] n_cols  = L_NC[layer_reg*16 +: 16];
    wire [15:0] n_tiles = L_T[layer_reg*16 +: 16];
    wire [15:0] n_ctile = L_U[layer_reg*16 +: 16];
    wire [15:0] used_cols = (ctile_reg == n_ctile[TW-1:0] - 1'b1) ? (n_cols - ctile_reg * PAIRS) : PAIRS;
    wire [15:0] n_rounds = (used_cols + N_ADC - 1) / N_ADC;

    always @(*) begin
        state_next = state_reg;
        layer_next = layer_reg;
        tile_next = tile_reg;
        ctile_next = ctile_reg;
        bit_next = bit_reg;
        round_next = round_reg;
        act_next = act_reg;
        cnt_next = cnt_reg;
        if (!stall || state_reg == S_IDLE || state_reg == S_DONE) begin
            case (state_reg)
                S_IDLE, S_DONE: begin
                    if (start) begin
                        state_next = S_LAYER;
                        layer_next = {LW{1'b0}};
                    end
                end
                S_LAYER: begin
                    state_next = S_LATCH;
                    tile_next = {TW{1'b0}};
                end
                S_LATCH: begin
                    state_next = S_READ;
                    ctile_next = {TW{1'b0}};
                    bit_next = 4'd0;
                    cnt_next = 8'd0;
                end
                S_READ: begin
                    if (cnt_reg == ARRAY_LAT - 1) begin
                        state_next = S_CONV;
                        round_next = {KW{1'b0}};
                        cnt_next = 8'd0;
                    end else begin
                        cnt_next = cnt_reg + 8'd1;
                    end
                end
                S_CONV: begin
                    if (cnt_reg == ADC_LAT - 1) begin
                        cnt_next = 8'd0;
                        if ({{(16-KW){1'b0}}, round_reg} != n_rounds - 1) begin
                            round_next = round_reg + 1'b1;
                        end else if (bit_reg != N_INSL - 1) begin
                            bit_next = bit_reg + 4'd1;
                            state_next = S_READ;
                        end else if ({{(16-TW){1'b0}}, ctile_reg} != n_ctile - 1) begin
                            ctile_next = ctile_reg + 1'b1;
                            bit_next = 4'd0;
                            state_next = S_READ;
                        end else if ({{(16-TW){1'b0}}, tile_reg} != n_tiles - 1) begin
                            tile_next = tile_reg + 1'b1;
                            state_next = S_LATCH;
                        end else begin
                            state_next = S_DRAIN;
                        end
                    end else begin
                        cnt_next = cnt_reg + 8'd1;
                    end
                end
                S_DRAIN: begin
                    state_next = S_ACT;
                    act_next = {AW{1'b0}};
                end
                S_ACT: begin
                    if ({{(16-AW){1'b0}}, act_reg} == n_out - 1) begin
                        if (layer_reg == N_LAYERS - 1) begin
                            state_next = S_FINISH;
                        end else begin
                            layer_next = layer_reg + 1'b1;
                            state_next = S_LAYER;
                        end
                    end else begin
                        act_next = act_reg + 1'b1;
                    end
                end
                S_FINISH: state_next = S_DONE;
                default: state_next = S_IDLE;
            endcase
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            state_reg <= S_IDLE;
            layer_reg <= {LW{1'b0}};
            tile_reg <= {TW{1'b0}};
            ctile_reg <= {TW{1'b0}};
            bit_reg <= 4'd0;
            round_reg <= {KW{1'b0}};
            act_reg <= {AW{1'b0}};
            cnt_reg <= 8'd0;
        end else begin
            state_reg <= state_next;
            layer_reg <= layer_next;
            tile_reg <= tile_next;
            ctile_reg <= ctile_next;
            bit_reg <= bit_next;
            round_reg <= round_next;
            act_reg <= act_next;
            cnt_reg <= cnt_next;
        end
    end

    assign state = state_reg;
    assign busy = (state_reg != S_IDLE) && (state_reg != S_DONE);
    assign done = (state_reg == S_DONE);
    assign layer = layer_reg;
    assign tile = tile_reg;
    assign ctile = ctile_reg;
    assign bit_idx = bit_reg;
    assign round_idx = round_reg;
    assign act_idx = act_reg;
    assign cols = used_cols[7:0];
    assign clr_acc = (state_reg == S_LAYER) && !stall;
    assign latch = (state_reg == S_LATCH) && !stall;
    assign xbar_start = (state_reg == S_READ) && (cnt_reg == 8'd0) && !stall;
    assign adc_issue = (state_reg == S_CONV) && (cnt_reg == 8'd0) && !stall;
    assign act_valid = (state_reg == S_ACT) && !stall;
    assign last_layer = (layer_reg == N_LAYERS - 1);

endmodule

`default_nettype wire
