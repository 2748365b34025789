// reram_adc: one ADC lane. Digitizes a signed pre-ADC column sum into a code:
//   code = clamp((value * mult + 2^(shift-1)) >>> shift, lo, hi)
// with [lo, hi] the signed or the unipolar code range, parameters that reram_layer takes from reram_params.vh
// (written from reram/ir/rules.py's adc_limits; the defaults are an 8-bit ADC's). The widths of mult and shift come
// from reram_rules.vh (ADC_MULT_MAX, ADC_SHIFT_MAX); the ports are declared after it.
// The conversion takes LAT cycles (a register pipeline); the code and tag are loaded on in_valid only, so an idle
// lane neither toggles its registers nor costs simulation time. Synthesizable.
`default_nettype none

module reram_adc #(
    parameter SW = 40,        // width of the signed pre-ADC value
    parameter ADC_BITS = 8,   // ADC resolution in bits (the code has ADC_BITS + 1 bits, signed)
    parameter integer CODE_MIN_S = -128,  // signed code range
    parameter integer CODE_MAX_S = 127,
    parameter integer CODE_MIN_U = 0,     // unipolar code range
    parameter integer CODE_MAX_U = 255,
    parameter LAT = 1,        // conversion latency in cycles (>= 1)
    parameter TAGW = 1        // width of a tag carried alongside the conversion (e.g. its column)
) (clk, rst, in_valid, in_value, mult, shift, is_signed, in_tag, out_valid, out_code, out_tag);

    /* verilator lint_off UNUSEDPARAM */
`include "reram_rules.vh"
    /* verilator lint_on UNUSEDPARAM */

    input  wire                     clk;
    input  wire                     rst;
    input  wire                     in_valid;
    input  wire signed [SW-1:0]     in_value;
    input  wire [ADC_MULT_W-1:0]    mult;
    input  wire [ADC_SHIFT_W-1:0]   shift;
    input  wire                     is_signed;
    input  wire [TAGW-1:0]          in_tag;
    output wire                     out_valid;
    output wire signed [ADC_BITS:0] out_code;
    output wire [TAGW-1:0]          out_tag;

    /*verilator no_inline_module*/  // one copy of the code for its many instances (build time)

    localparam PW = SW + ADC_MULT_W + 1;  // product width
    localparam [ADC_SHIFT_W-1:0] SH1 = 1;
    /* verilator lint_off WIDTHEXPAND */  // the 32-bit code limits, sign-extended to the product width
    localparam signed [PW-1:0] LO_S = CODE_MIN_S;
    localparam signed [PW-1:0] HI_S = CODE_MAX_S;
    localparam signed [PW-1:0] LO_U = CODE_MIN_U;
    localparam signed [PW-1:0] HI_U = CODE_MAX_U;
    /* verilator lint_on WIDTHEXPAND */

    // The conversion, a function so that the simulator evaluates it only in the cycles the lane converts (a
    // continuous assignment would be evaluated every cycle); synthesis builds the same logic either way.
    function [ADC_BITS:0] convert;
        input signed [SW-1:0]   value;
        input [ADC_MULT_W-1:0]  m;
        input [ADC_SHIFT_W-1:0] sh;
        input                   sgn;
        reg signed [PW-1:0] product;
        reg signed [PW-1:0] rnd;
        reg signed [PW-1:0] scaled;
        reg signed [PW-1:0] lo;
        reg signed [PW-1:0] hi;
        /* verilator lint_off UNUSEDSIGNAL */
        reg signed [PW-1:0] clamped;  // fits ADC_BITS+1 bits
        /* verilator lint_on UNUSEDSIGNAL */
        begin
            product = value * $signed({1'b0, m});
            rnd = (sh == {ADC_SHIFT_W{1'b0}}) ? {PW{1'b0}} : ({{(PW-1){1'b0}}, 1'b1} <<< (sh - SH1));
            scaled = (product + rnd) >>> sh;
            lo = sgn ? LO_S : LO_U;
            hi = sgn ? HI_S : HI_U;
            clamped = (scaled < lo) ? lo : ((scaled > hi) ? hi : scaled);
            convert = clamped[ADC_BITS:0];
        end
    endfunction

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
            if (in_valid) begin  // the first stage loads only when it converts (it holds otherwise)
                code_reg[ADC_BITS:0] <= convert(in_value, mult, shift, is_signed);
                tag_reg[TAGW-1:0] <= in_tag;
            end
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
