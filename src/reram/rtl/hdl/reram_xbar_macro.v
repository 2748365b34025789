// reram_xbar_macro: BEHAVIOURAL MODEL OF THE ANALOG CROSSBAR (not synthesizable as written).
// It stands for the ReRAM array, its sense amplifiers and the differential current subtraction: on start
// it computes, for each signed column pair c of the selected array,
//     S[c] = sum_r drive[r] * (gpos[base + c*ROWS + r] - gneg[base + c*ROWS + r])
// over the programmed integer conductance codes, holds the sums (sample and hold) and raises valid after
// LAT cycles. The conductance codes are loaded at run time through the write port, never compiled in.
`default_nettype none

module reram_xbar_macro #(
    parameter ROWS = 128,     // rows per array
    parameter PAIRS = 64,     // signed column pairs per array
    parameter XW = 8,         // row drive width
    parameter GW = 14,        // conductance code width
    parameter SW = 40,        // width of a signed column sum
    parameter GDEPTH = 1024,  // conductance memory depth (cells of every array of every layer)
    parameter GAW = 10,       // conductance memory address width
    parameter LAT = 1         // array read latency in cycles (>= 1)
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                wr_pos,
    input  wire                wr_neg,
    input  wire [GAW-1:0]      wr_addr,
    input  wire [GW-1:0]       wr_data,
    input  wire                start,
    input  wire [GAW-1:0]      base,
    input  wire [7:0]          ncols,
    input  wire [ROWS*XW-1:0]  drive,
    output wire                valid,
    output reg  [PAIRS*SW-1:0] sums
);

    reg [GW-1:0] gpos_mem [0:GDEPTH-1];
    reg [GW-1:0] gneg_mem [0:GDEPTH-1];
    reg [LAT-1:0] valid_reg;

    always @(posedge clk) begin
        if (wr_pos) gpos_mem[wr_addr] <= wr_data;
        if (wr_neg) gneg_mem[wr_addr] <= wr_data;
    end

    // Behavioural model: blocking temporaries inside the clocked block are intended here.
    /* verilator lint_off BLKSEQ */
    integer c;
    integer r;
    integer i;
    reg signed [SW-1:0] acc;
    reg [GAW-1:0] addr;
    always @(posedge clk) begin
        if (rst) begin
            valid_reg <= {LAT{1'b0}};
            sums <= {PAIRS*SW{1'b0}};
        end else begin
            valid_reg[0] <= start;
            for (i = 1; i < LAT; i = i + 1) valid_reg[i] <= valid_reg[i-1];
            if (start) begin
                for (c = 0; c < PAIRS; c = c + 1) begin
                    acc = {SW{1'b0}};
                    if (c < ncols) begin
                        for (r = 0; r < ROWS; r = r + 1) begin
                            addr = base + c[GAW-1:0] * ROWS[GAW-1:0] + r[GAW-1:0];
                            acc = acc + $signed({{(SW-XW){1'b0}}, drive[r*XW +: XW]})
                                * ($signed({{(SW-GW){1'b0}}, gpos_mem[addr]}) - $signed({{(SW-GW){1'b0}}, gneg_mem[addr]}));
                        end
                    end
                    sums[c*SW +: SW] <= acc;
                end
            end
        end
    end

    /* verilator lint_on BLKSEQ */

    assign valid = valid_reg[LAT-1];

endmodule

`default_nettype wire
