// reram_accum: shift-add accumulators, one per output column of a layer. Each of LANES ports adds
// (code <<< shift) to one accumulator per cycle. Lanes may address the same accumulator (the weight slices of
// one output sit in adjacent columns): their terms are summed first and the lowest such lane writes.
// Synthesizable.
`default_nettype none

module reram_accum #(
    parameter AW = 8,         // accumulator index width (2**AW accumulators)
    parameter ACC_W = 48,     // accumulator width
    parameter LANES = 8,      // parallel add ports (one per ADC)
    parameter CW = 9,         // width of a signed ADC code
    parameter SHW = 6         // width of a shift amount
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    clear,
    input  wire [LANES-1:0]        add_en,
    input  wire [LANES*AW-1:0]     add_idx,
    input  wire [LANES*CW-1:0]     add_code,
    input  wire [LANES*SHW-1:0]    add_shift,
    input  wire [AW-1:0]           rd_idx,
    output wire signed [ACC_W-1:0] rd_data
);

    reg signed [ACC_W-1:0] acc_reg [0:(1<<AW)-1];

    // per-lane shifted terms, and per-lane sums over all lanes addressing the same accumulator
    reg signed [ACC_W-1:0] term [0:LANES-1];
    reg signed [ACC_W-1:0] lane_sum [0:LANES-1];
    reg [LANES-1:0]        lane_first;
    integer a;
    integer b;
    always @(*) begin
        for (a = 0; a < LANES; a = a + 1) begin
            term[a] = {{(ACC_W-CW){add_code[a*CW+CW-1]}}, add_code[a*CW +: CW]} <<< add_shift[a*SHW +: SHW];
        end
        for (a = 0; a < LANES; a = a + 1) begin
            lane_sum[a] = {ACC_W{1'b0}};
            lane_first[a] = 1'b1;
            for (b = 0; b < LANES; b = b + 1) begin
                if (add_en[b] && add_idx[b*AW +: AW] == add_idx[a*AW +: AW]) begin
                    lane_sum[a] = lane_sum[a] + term[b];
                    if (b < a) lane_first[a] = 1'b0;
                end
            end
        end
    end

    integer i;
    integer k;
    always @(posedge clk) begin
        if (rst || clear) begin
            for (i = 0; i < (1 << AW); i = i + 1) begin
                acc_reg[i] <= {ACC_W{1'b0}};
            end
        end else begin
            for (k = 0; k < LANES; k = k + 1) begin
                if (add_en[k] && lane_first[k]) begin
                    acc_reg[add_idx[k*AW +: AW]] <= acc_reg[add_idx[k*AW +: AW]] + lane_sum[k];
                end
            end
        end
    end

    assign rd_data = acc_reg[rd_idx];

endmodule

`default_nettype wire
