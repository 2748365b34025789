// reram_fbuf: BEHAVIOURAL MODEL OF A FEATURE-MAP BUFFER MACRO (a double-buffered register file; excluded from
// synthesis like the crossbar macro, its area comes from the energy model's buffer figures).
// Two banks of 2**AW words. WL write ports write bank wbank and return the word they address before the write
// (read-modify-write, for pooling). RP read ports read bank rbank (the low XW bits of each word).
`default_nettype none

module reram_fbuf #(
    parameter AW = 10,         // bank address width
    parameter BW = 8,          // word width
    parameter XW = 8,          // width of a read-port code (<= BW)
    parameter WL = 8,          // write ports
    parameter RP = 128         // read ports
) (
    input  wire               clk,
    input  wire               wbank,
    input  wire               rbank,
    input  wire [WL-1:0]      we,
    input  wire [WL*AW-1:0]   waddr,
    input  wire [WL*BW-1:0]   wdata,
    output wire [WL*BW-1:0]   wold,
    input  wire [RP*AW-1:0]   raddr,
    output wire [RP*XW-1:0]   rdata
);

`ifndef SYNTHESIS  // behavioural body: synthesis reads this module as a black box
    reg [BW-1:0] mem [0:(2 << AW)-1];

    integer k;
    always @(posedge clk) begin
        for (k = 0; k < WL; k = k + 1) begin
            if (we[k]) mem[{wbank, waddr[k*AW +: AW]}] <= wdata[k*BW +: BW];
        end
    end

    genvar g;
    generate
        for (g = 0; g < WL; g = g + 1) begin : g_w
            assign wold[g*BW +: BW] = mem[{wbank, waddr[g*AW +: AW]}];
        end
        for (g = 0; g < RP; g = g + 1) begin : g_r
            /* verilator lint_off UNUSEDSIGNAL */
            wire [BW-1:0] word = mem[{rbank, raddr[g*AW +: AW]}];
            /* verilator lint_on UNUSEDSIGNAL */
            assign rdata[g*XW +: XW] = word[XW-1:0];
        end
    endgenerate

`endif

endmodule

`default_nettype wire
