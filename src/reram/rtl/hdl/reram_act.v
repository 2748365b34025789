// reram_act: the activation unit. Bias, residual add, ReLU and requantization of one accumulator per cycle
// (reram.ir.rules.requant):
//   y = acc * mult + bias (+ skip * add_mult: a residual add, the operand's codes aligned by an integer multiplier)
//   hidden layers: code = clamp((y + 2^(shift-1)) >>> shift, lo, 2^XW - 1), lo = 0 (ReLU) or -(2^XW - 1) (signed
//   outputs: a projection shortcut's, read only by residual adds); the last layer: the logit y itself.
// One rounding (half up), then the clamp. Registered outputs (one cycle latency). Synthesizable.
// The widths of mult, add_mult, bias and shift come from reram_rules.vh (generated from reram/ir/rules.py:
// REQ_MULT_MAX, REQ_BIAS_MAX, REQ_SHIFT_MAX); the ports are declared after it.
`default_nettype none

module reram_act #(
    parameter ACC_W = 48,     // accumulator width
    parameter XW = 8,         // width of an output (next-layer input) code
    parameter ADD = 0,        // 1: a residual add (skip * add_mult joins the sum before the rounding)
    parameter SKW = 10,       // width of the signed skip operand
    parameter OSIGNED = 0     // 1: signed output codes, XW + 1 bits two's complement, clamped to +-(2^XW - 1)
) (clk, rst, in_valid, acc, mult, bias, shift, skip, add_mult, out_valid, out_code, out_logit);

    /* verilator lint_off UNUSEDPARAM */
`include "reram_rules.vh"
    /* verilator lint_on UNUSEDPARAM */

    localparam OCW = XW + OSIGNED;  // output code width

    input  wire                          clk;
    input  wire                          rst;
    input  wire                          in_valid;
    input  wire signed [ACC_W-1:0]       acc;
    input  wire signed [REQ_MULT_W-1:0]  mult;
    input  wire signed [REQ_BIAS_W-1:0]  bias;
    input  wire [REQ_SHIFT_W-1:0]        shift;
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire signed [SKW-1:0]         skip;      // unused without ADD
    input  wire signed [REQ_MULT_W-1:0]  add_mult;
    /* verilator lint_on UNUSEDSIGNAL */
    output reg                           out_valid;
    output reg  [OCW-1:0]                out_code;
    output reg  signed [63:0]            out_logit;

    /*verilator no_inline_module*/  // one copy of the code for its many instances (build time)

    localparam [REQ_SHIFT_W-1:0] SH1 = 1;

    wire signed [63:0] acc64 = {{(64-ACC_W){acc[ACC_W-1]}}, acc};
    wire signed [63:0] mult64 = {{(64-REQ_MULT_W){mult[REQ_MULT_W-1]}}, mult};
    wire signed [63:0] bias64 = {{(64-REQ_BIAS_W){bias[REQ_BIAS_W-1]}}, bias};
    wire signed [63:0] skip64 = {{(64-SKW){skip[SKW-1]}}, skip};
    wire signed [63:0] amult64 = {{(64-REQ_MULT_W){add_mult[REQ_MULT_W-1]}}, add_mult};
    wire signed [63:0] res64 = (ADD != 0) ? skip64 * amult64 : 64'sd0;
    wire signed [63:0] y = acc64 * mult64 + bias64 + res64;
    wire signed [63:0] rnd = (shift == {REQ_SHIFT_W{1'b0}}) ? 64'sd0 : (64'sd1 <<< (shift - SH1));
    wire signed [63:0] q = (y + rnd) >>> shift;
    wire signed [63:0] xmax = (64'sd1 <<< XW) - 64'sd1;
    wire signed [63:0] xmin = (OSIGNED != 0) ? -xmax : 64'sd0;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [63:0] qc = (q < xmin) ? xmin : ((q > xmax) ? xmax : q);
    /* verilator lint_on UNUSEDSIGNAL */

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            out_code <= {OCW{1'b0}};
            out_logit <= 64'sd0;
        end else begin
            out_valid <= in_valid;
            out_code <= qc[OCW-1:0];
            out_logit <= y;
        end
    end

endmodule

`default_nettype wire
