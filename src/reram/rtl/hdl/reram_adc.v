// reram_adc: one ADC lane. Digitizes a signed pre-ADC column sum into a code:
//   code = clamp((value * mult + 2^(shift-1)) >>> shift, lo, hi)
// with lo/hi the signed (-2^(B-1), 2^(B-1)-1) or unsigned (0, 2^B-1) code range.
// The conversion takes LAT cycles (a register pipeline). Synthesizable.
`default_nettype none

module reram_adc #(
    parameter SW = 40,        // width of the signed pre-ADC value
    parameter MW = 20,        // width of the unsigned ADC gain multiplier
    parameter ADC_BITS = 8,   // ADC resolution in bits
    parameter LAT = 1,        // conversion latency in cycles (>= 1)
    parameter TAGW = 1        // width of a tag carried alongside the conversion (e.g. its column)
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     in_valid,
    input  wire signed [SW-1:0]     in_value,
    input  wire [MW-1:0]            mult,
    input  wire [5:0]               shift,
    input  wire                     is_signed,
    input  wire [TAGW-1:0]          in_tag,
    output wire                     out_valid,
    output wire signed [ADC_BITS:0] out_code,
    output wire [TAGW-1:0]          out_tag
);

    /*verilator no_inline_module*/  // one copy of the code for its many instances (build time)

    localparam PW = SW + MW + 1;  // product width

    wire signed [PW-1:0] product = in_value * $signed({1'b0, mult});
    wire signed [PW-1:0] rnd = (shift == 6'd0) ? {PW{1'b0}} : ({{(PW-1){1'b0}}, 1'b1} <<< (shift - 6'd1));
    wire signed [PW-1:0] scaled = (product + rnd) >>> shift;

    wire signed [PW-1:0] lo = is_signed ? -($signed({{(PW-1){1'b0}}, 1'b1}) <<< (ADC_BITS - 1)) : {PW{1'b0}};
    wire signed [PW-1:0] hi = is_signed ? (($signed({{(PW-1){1'b0}}, 1'b1}) <<< (ADC_BITS - 1)) - 1)
                                        : (($signed({{(PW-1){1'b0}}, 1'b1}) <<< ADC_BITS) - 1);
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [PW-1:0] clamped = (scaled < lo) ? lo : ((scaled > hi) ? hi : scaled);  // fits ADC_BITS+1 bits
    /* verilator lint_on UNUSEDSIGNAL */

    reg [LAT-1:0]              valid_reg;
    reg [(ADC_BITS+1)*LAT-1:0] code_reg;
    reg [TAGW*LAT-1:0]         tag_reg;

    integer i;
    always @(posedge clk) begin
        if (rst) begin
            valid_reg <= {LAT{1'b0}};
            code_reg <= {(ADC_BITS+1)*LAT{1'b0}};
            tag_reg <= {TAGW*LAT{1'b0}};
        end else begin
            valid_reg[0] <= in_valid;
            code_reg[ADC_BITS:0] <= clamped[ADC_BITS:0];
            tag_reg[TAGW-1:0] <= in_tag;
            for (i = 1; i < LAT; i = i + 1) begin
                valid_reg[i] <= valid_reg[i-1];
                code_reg[i*(ADC_BITS+1) +: ADC_BITS+1] <= code_reg[(i-1)*(ADC_BITS+1) +: ADC_BITS+1];
                tag_reg[i*TAGW +: TAGW] <= tag_reg[(i-1)*TAGW +: TAGW];
            end
        end
    end

    assign out_valid = valid_reg[LAT-1];
    assign out_code = code_reg[(LAT-1)*(ADC_BITS+1) +: ADC_BITS+1];
    assign out_tag = tag_reg[(LAT-1)*TAGW +: TAGW];

endmodule

`default_nettype wire
