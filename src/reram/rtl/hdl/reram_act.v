// reram_act: the activation unit. Bias, ReLU and requantization of one accumulator per cycle:
//   y = acc * mult + bias;  hidden layers: code = clamp((y + 2^(shift-1)) >>> shift, 0, 2^XW - 1)
//   last layer: the logit y itself. Registered outputs (one cycle latency). Synthesizable.
// The widths of mult, bias and shift come from reram_rules.vh (generated from reram/ir/rules.py: REQ_MULT_MAX,
// REQ_BIAS_MAX, REQ_SHIFT_MAX); the ports are declared after it.
`default_nettype none

module reram_act #(
    parameter ACC_W = 48,     // accumulator width
    parameter XW = 8          // width of an output (next-layer input) code
) (clk, rst, in_valid, acc, mult, bias, shift, out_valid, out_code, out_logit);

    /* verilator lint_off UNUSEDPARAM */
`include "reram_rules.vh"
    /* verilator lint_on UNUSEDPARAM */

    input  wire                          clk;
    input  wire                          rst;
    input  wire                          in_valid;
    input  wire signed [ACC_W-1:0]       acc;
    input  wire signed [REQ_MULT_W-1:0]  mult;
    input  wire signed [REQ_BIAS_W-1:0]  bias;
    input  wire [REQ_SHIFT_W-1:0]        shift;
    output reg                           out_valid;
    output reg  [XW-1:0]                 out_code;
    output reg  signed [63:0]            out_logit;

    /*verilator no_inline_module*/  // one copy of the code for its many instances (build time)

    localparam [REQ_SHIFT_W-1:0] SH1 = 1;

    wire signed [63:0] acc64 = {{(64-ACC_W){acc[ACC_W-1]}}, acc};
    wire signed [63:0] mult64 = {{(64-REQ_MULT_W){mult[REQ_MULT_W-1]}}, mult};
    wire signed [63:0] bias64 = {{(64-REQ_BIAS_W){bias[REQ_BIAS_W-1]}}, bias};
    wire signed [63:0] y = acc64 * mult64 + bias64;
    wire signed [63:0] rnd = (shift == {REQ_SHIFT_W{1'b0}}) ? 64'sd0 : (64'sd1 <<< (shift - SH1));
    wire signed [63:0] q = (y + rnd) >>> shift;
    wire signed [63:0] xmax = (64'sd1 <<< XW) - 64'sd1;
    wire [XW-1:0] code_next = (q < 0) ? {XW{1'b0}} : ((q > xmax) ? {XW{1'b1}} : q[XW-1:0]);

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            out_code <= {XW{1'b0}};
            out_logit <= 64'sd0;
        end else begin
            out_valid <= in_valid;
            out_code <= code_next;
            out_logit <= y;
        end
    end

endmodule

`default_nettype wire
