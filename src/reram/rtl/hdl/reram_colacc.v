// reram_colacc: the column accumulators of one layer. Each of LANES add ports adds a signed value to one column
// per cycle; the lanes of one cycle address distinct columns (each ADC lane owns its columns), which the
// `collision` output checks. RDP read ports read any column. clear zeroes every column. Synthesizable.
`default_nettype none

module reram_colacc #(
    parameter CAW = 6,         // column index width (2**CAW columns)
    parameter ACW = 16,        // accumulator width
    parameter LANES = 8,       // add ports
    parameter RDP = 8          // read ports
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 clear,
    input  wire [LANES-1:0]     add_en,
    input  wire [LANES*CAW-1:0] add_idx,
    input  wire [LANES*ACW-1:0] add_val,
    input  wire [RDP*CAW-1:0]   rd_idx,
    output wire [RDP*ACW-1:0]   rd_data,
    output reg                  collision
);

    reg [ACW-1:0] acc_reg [0:(1<<CAW)-1];

    integer i;
    integer k;
    integer j;
    always @(posedge clk) begin
        if (rst || clear) begin
            for (i = 0; i < (1 << CAW); i = i + 1) acc_reg[i] <= {ACW{1'b0}};
        end else begin
            for (k = 0; k < LANES; k = k + 1) begin
                if (add_en[k]) acc_reg[add_idx[k*CAW +: CAW]] <= acc_reg[add_idx[k*CAW +: CAW]] + add_val[k*ACW +: ACW];
            end
        end
    end

    always @(*) begin
        collision = 1'b0;
        for (k = 0; k < LANES; k = k + 1) begin
            for (j = k + 1; j < LANES; j = j + 1) begin
                if (add_en[k] && add_en[j] && add_idx[k*CAW +: CAW] == add_idx[j*CAW +: CAW]) collision = 1'b1;
            end
        end
    end

    genvar g;
    generate
        for (g = 0; g < RDP; g = g + 1) begin : g_rd
            assign rd_data[g*ACW +: ACW] = acc_reg[rd_idx[g*CAW +: CAW]];
        end
    endgenerate

endmodule

`default_nettype wire
