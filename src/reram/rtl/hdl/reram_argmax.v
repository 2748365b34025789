// reram_argmax: streaming argmax over the logits of the last layer, LANES logits per cycle in increasing index
// order. Keeps the first index of the largest value (a later equal value does not replace it), as numpy.argmax
// does. Synthesizable.
`default_nettype none

module reram_argmax #(
    parameter IW = 9,          // index width
    parameter LANES = 1        // logits per cycle
) (
    input  wire                  clk, rst,  // clock, synchronous reset
    input  wire                  clear,     // start a new stream of logits
    input  wire [LANES-1:0]      in_valid,
    input  wire [LANES*IW-1:0]   in_idx,
    input  wire [LANES*64-1:0]   in_value,
    output reg  [IW-1:0]         best_idx,
    output reg  signed [63:0]    best_value
);

    reg have_reg;

    reg               have_next;
    reg [IW-1:0]      idx_next;
    reg signed [63:0] value_next;
    integer k;
    always @(*) begin
        have_next = have_reg;
        idx_next = best_idx;
        value_next = best_value;
        for (k = 0; k < LANES; k = k + 1) begin
            if (in_valid[k] && (!have_next || $signed(in_value[k*64 +: 64]) > value_next)) begin
                have_next = 1'b1;
                idx_next = in_idx[k*IW +: IW];
                value_next = $signed(in_value[k*64 +: 64]);
            end
        end
    end

    always @(posedge clk) begin
        if (rst || clear) begin
            have_reg <= 1'b0;
            best_idx <= {IW{1'b0}};
            best_value <= 64'sd0;
        end else begin
            have_reg <= have_next;
            best_idx <= idx_next;
            best_value <= value_next;
        end
    end

endmodule

`default_nettype wire
