// reram_accum: shift-add accumulators, one per output column of a layer. Each of LANES ports adds
// (code <<< shift) to one accumulator per cycle (the lanes address distinct columns). Synthesizable.
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

    integer i;
    integer k;
    always @(posedge clk) begin
        if (rst || clear) begin
            for (i = 0; i < (1 << AW); i = i + 1) begin
                acc_reg[i] <= {ACC_W{1'b0}};
            end
        end else begin
            for (k = 0; k < LANES; k = k + 1) begin
                if (add_en[k]) begin
                    acc_reg[add_idx[k*AW +: AW]] <= acc_reg[add_idx[k*AW +: AW]]
                        + ({{(ACC_W-CW){add_code[k*CW+CW-1]}}, add_code[k*CW +: CW]} <<< add_shift[k*SHW +: SHW]);
                end
            end
        end
    end

    assign rd_data = acc_reg[rd_idx];

endmodule

`default_nettype wire
