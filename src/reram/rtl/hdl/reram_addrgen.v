// reram_addrgen: the im2col address generator of one row tile. For the output position (oy, ox) it gives the
// feature-buffer address of each of the tile's ROWS rows -- row j = TI * ROWS + r of the patch is input channel
// j / (KH * KW), kernel row (j / KW) % KH, kernel column j % KW (torch's unfold order) -- and whether the row
// reads the map (1) or is zero padding / beyond the layer's rows (0). Dense layers (CONV = 0) read row j itself.
// The patch is never stored: only these addresses are. Combinational. Synthesizable.
`default_nettype none

module reram_addrgen #(
    parameter TI = 0,          // row tile index
    parameter ROWS = 128,      // rows per array
    parameter IN_FEAT = 784,   // rows of the layer (C * KH * KW for a convolution)
    parameter CONV = 0,        // 1: convolution, 0: dense
    parameter H = 1,           // input rows
    parameter W = 1,           // input columns
    parameter KH = 1,          // kernel rows
    parameter KW = 1,          // kernel columns
    parameter SH = 1,          // stride (rows)
    parameter SWD = 1,         // stride (columns)
    parameter PH = 0,          // padding (rows)
    parameter PW = 0,          // padding (columns)
    parameter AW = 10,         // feature-buffer address width
    parameter CW = 16          // width of the position coordinates
) (
    input  wire [CW-1:0]        oy,
    input  wire [CW-1:0]        ox,
    output wire [ROWS*AW-1:0]   addr,
    output wire [ROWS-1:0]      valid
);

    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [31:0] iy0 = $signed({{(32-CW){1'b0}}, oy}) * SH - PH;  // top row of the patch in the map
    wire signed [31:0] ix0 = $signed({{(32-CW){1'b0}}, ox}) * SWD - PW;
    /* verilator lint_on UNUSEDSIGNAL */

    genvar r;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_row
            localparam integer J = TI * ROWS + r;               // row of the patch
            if (J >= IN_FEAT) begin : g_unused
                assign addr[r*AW +: AW] = {AW{1'b0}};
                assign valid[r] = 1'b0;
            end else if (CONV == 0) begin : g_dense
                localparam [31:0] J32 = J;
                assign addr[r*AW +: AW] = J32[AW-1:0];
                assign valid[r] = 1'b1;
            end else begin : g_conv
                localparam integer CI = J / (KH * KW);          // input channel
                localparam integer KY = (J / KW) % KH;          // kernel row
                localparam integer KX = J % KW;                 // kernel column
                /* verilator lint_off UNUSEDSIGNAL */
                wire signed [31:0] iy = iy0 + KY;
                wire signed [31:0] ix = ix0 + KX;
                wire signed [31:0] a = CI * H * W + iy * W + ix;
                /* verilator lint_on UNUSEDSIGNAL */
                assign valid[r] = (iy >= 0) && (iy < H) && (ix >= 0) && (ix < W);
                assign addr[r*AW +: AW] = valid[r] ? a[AW-1:0] : {AW{1'b0}};
            end
        end
    endgenerate

endmodule

`default_nettype wire
