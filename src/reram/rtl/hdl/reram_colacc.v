// reram_colacc: the column accumulators of one layer. Each ADC lane owns a bank of DEPTH accumulators, one per ADC
// round: lane L = u * N_ADC + k (column tile u, ADC k) converts column u * PAIRS + r * N_ADC + k in round r, and
// adds its value (the sum over the row tiles' codes, shifted by the input bit) to entry r of its bank.
// The activation lanes read them: in step j, lane a reads the SLICES columns of output j * ACT_LANES + a, so each
// read port selects among only ASTEPS columns. clear zeroes every bank. Synthesizable.
`default_nettype none

module reram_colacc #(
    parameter LANES = 8,       // ADC lanes (add ports), U * N_ADC
    parameter N_ADC = 8,       // ADC lanes per array
    parameter PAIRS = 64,      // columns per array
    parameter DEPTH = 8,       // entries per lane: ADC rounds per array read
    parameter RW = 3,          // round index width
    parameter ACW = 16,        // accumulator width
    parameter ACT_LANES = 8,   // activation lanes
    parameter SLICES = 1,      // columns per output
    parameter ASTEPS = 1,      // activation steps
    parameter STW = 1          // activation step width
) (
    input  wire                            clk,
    input  wire                            rst,
    input  wire                            clear,
    input  wire [LANES-1:0]                add_en,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [RW-1:0]                   add_round,  // its low DIW bits index a bank
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [LANES*ACW-1:0]            add_val,
    input  wire [STW-1:0]                  rd_step,
    output wire [ACT_LANES*SLICES*ACW-1:0] rd_data
);

    localparam DIW = (DEPTH > 1) ? $clog2(DEPTH) : 1;  // index width of a bank

    /* verilator lint_off UNUSEDSIGNAL */
    wire [LANES*DEPTH*ACW-1:0] flat;  // every accumulator; the read ports use those their steps reach
    /* verilator lint_on UNUSEDSIGNAL */

    genvar g, j;
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_lane
            reg [ACW-1:0] bank [0:DEPTH-1];
            integer e;
            always @(posedge clk) begin
                if (rst || clear) begin
                    for (e = 0; e < DEPTH; e = e + 1) bank[e] <= {ACW{1'b0}};
                end else if (add_en[g]) begin
                    bank[add_round[DIW-1:0]] <= bank[add_round[DIW-1:0]] + add_val[g*ACW +: ACW];
                end
            end
            for (j = 0; j < DEPTH; j = j + 1) begin : g_ent
                assign flat[(g*DEPTH + j)*ACW +: ACW] = bank[j];
            end
        end
        for (g = 0; g < ACT_LANES * SLICES; g = g + 1) begin : g_rd
            // the column each step reads, as a constant table
            wire [ASTEPS*ACW-1:0] cand;
            for (j = 0; j < ASTEPS; j = j + 1) begin : g_step
                localparam integer COL = (j * ACT_LANES + g / SLICES) * SLICES + g % SLICES;
                localparam integer REM = COL % PAIRS;
                localparam integer IDX = ((COL / PAIRS) * N_ADC + REM % N_ADC) * DEPTH + REM / N_ADC;
                if (IDX < LANES * DEPTH) begin : g_in
                    assign cand[j*ACW +: ACW] = flat[IDX*ACW +: ACW];
                end else begin : g_out
                    assign cand[j*ACW +: ACW] = {ACW{1'b0}};  // beyond the layer's columns
                end
            end
            reg [ACW-1:0] sel;
            integer q;
            always @(*) begin
                sel = {ACW{1'b0}};
                for (q = 0; q < ASTEPS; q = q + 1) begin
                    if ({{(32-STW){1'b0}}, rd_step} == q) sel = cand[q*ACW +: ACW];
                end
            end
            assign rd_data[g*ACW +: ACW] = sel;
        end
    endgenerate

endmodule

`default_nettype wire
