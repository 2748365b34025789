// reram_argmax: streaming argmax over the logits of the last layer. Keeps the first index of the largest
// value (a later equal value does not replace it), as numpy.argmax does. Synthesizable.
`default_nettype none

module reram_argmax #(
    parameter IW = 9          // index width
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               clear,
    input  wire               in_valid,
    input  wire [IW-1:0]      in_idx,
    input  wire signed [63:0] in_value,
    output reg  [IW-1:0]      best_idx,
    output reg  signed [63:0] best_value
);

    reg have_reg;

    always @(posedge clk) begin
        if (rst || clear) begin
            have_reg <= 1'b0;
            best_idx <= {IW{1'b0}};
            best_value <= 64'sd0;
        end else if (in_valid && (!have_reg || in_value > best_value)) begin
            have_reg <= 1'b1;
            best_idx <= in_idx;
            best_value <= in_value;
        end
    end

endmodule

`default_nettype wire
