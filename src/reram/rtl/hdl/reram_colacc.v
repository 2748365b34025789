// reram_colacc: the column accumulators of one layer. Each ADC lane owns a bank of DEPTH accumulators, one per ADC
// round: lane L = u * N_ADC + k (column tile u, ADC k) converts column u * PAIRS + r * N_ADC + k in round r, and
// adds its value (the sum over the row tiles' codes, shifted by the input bit) to entry r of its bank. RDP read
// ports read any column of the layer. clear zeroes every bank. Synthesizable.
`default_nettype none

module reram_colacc #(
    parameter LANES = 8,       // ADC lanes (add ports), U * N_ADC
    parameter N_ADC = 8,       // ADC lanes per array
    parameter PAIRS = 64,      // columns per array
    parameter DEPTH = 8,       // entries per lane: ADC rounds per array read
    parameter RW = 3,          // round index width
    parameter CAW = 6,         // column index width of the read ports
    parameter ACW = 16,        // accumulator width
    parameter RDP = 8          // read ports
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 clear,
    input  wire [LANES-1:0]     add_en,
    input  wire [RW-1:0]        add_round,
    input  wire [LANES*ACW-1:0] add_val,
    input  wire [RDP*CAW-1:0]   rd_col,
    output wire [RDP*ACW-1:0]   rd_data
);

    wire [LANES*DEPTH*ACW-1:0] flat;

    genvar g;
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_lane
            reg [DEPTH*ACW-1:0] bank_reg;
            always @(posedge clk) begin
                if (rst || clear) bank_reg <= {DEPTH*ACW{1'b0}};
                else if (add_en[g]) bank_reg[add_round*ACW +: ACW] <= bank_reg[add_round*ACW +: ACW] + add_val[g*ACW +: ACW];
            end
            assign flat[g*DEPTH*ACW +: DEPTH*ACW] = bank_reg;
        end
        for (g = 0; g < RDP; g = g + 1) begin : g_rd
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] c = {{(32-CAW){1'b0}}, rd_col[g*CAW +: CAW]};
            wire [31:0] rem = c % PAIRS;
            wire [31:0] idx = ((c / PAIRS) * N_ADC + rem % N_ADC) * DEPTH + rem / N_ADC;
            /* verilator lint_on UNUSEDSIGNAL */
            assign rd_data[g*ACW +: ACW] = (idx < LANES * DEPTH) ? flat[idx*ACW +: ACW] : {ACW{1'b0}};
        end
    endgenerate

endmodule

`default_nettype wire
