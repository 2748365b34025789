// reram_pool: one lane of the pooling unit, on the write path to the next layer's feature buffer. Windows do not
// overlap (stride = kernel); the first element of a window starts it, the last one finishes it:
//   none: the code itself;  max: max(kept, code);
//   avg : the running sum, and on the last element floor(sum / PK + 1/2) = (2 * sum + PK) / (2 * PK).
// Combinational. Synthesizable.
`default_nettype none

module reram_pool #(
    parameter POOL = 0,        // 0 none, 1 max, 2 avg
    parameter PK = 1,          // cells per window (kernel rows x columns)
    parameter XW = 8,          // code width
    parameter BW = 8           // stored word width (holds a window's sum for avg)
) (
    input  wire [XW-1:0] code,
    input  wire [BW-1:0] kept,     // the word stored before this write
    input  wire          first,
    input  wire          last,
    output wire [BW-1:0] out
);

    /*verilator no_inline_module*/  // one copy of the code for its many instances (build time)

    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] code32 = {{(32-XW){1'b0}}, code};
    wire [31:0] kept32 = {{(32-BW){1'b0}}, kept};
    wire [31:0] mx = (first || code32 > kept32) ? code32 : kept32;
    wire [31:0] sum = first ? code32 : kept32 + code32;
    wire [31:0] avg = (2 * sum + PK) / (2 * PK);
    wire [31:0] res = (POOL == 1) ? mx : (POOL == 2) ? (last ? avg : sum) : code32;
    /* verilator lint_on UNUSEDSIGNAL */
    assign out = res[BW-1:0];

endmodule

`default_nettype wire
