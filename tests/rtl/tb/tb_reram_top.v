// Self-checking testbench of reram_top for Icarus Verilog (and any Verilog-2005 simulator).
// Reads, from the working directory: meta.hex (words: image length, samples, inputs, outputs, codes per word),
// image_addr.hex / image_data.hex (host-bus writes), inputs.hex (one input-bus word per line, per sample)
// and expected.hex (per sample: the outputs' 64-bit logits, then the argmax). Prints PASS or FAIL lines.
`timescale 1ns / 1ps
`default_nettype none

module tb_reram_top;

    localparam MAXW = 65536;      // largest image / input / expected file, in words

    reg         clk = 1'b0;
    reg         rst = 1'b1;
    reg         we = 1'b0;
    reg  [31:0] addr = 32'd0;
    reg  [31:0] wdata = 32'd0;
    wire [31:0] rdata;
    wire        done;
    wire        busy;

    reram_top dut (
        .clk(clk), .rst(rst), .host_we(we), .host_addr(addr), .host_wdata(wdata), .host_rdata(rdata),
        .done(done), .busy(busy)
    );

    always #5 clk = ~clk;

    reg [31:0] meta [0:7];
    reg [31:0] img_addr [0:MAXW-1];
    reg [31:0] img_data [0:MAXW-1];
    reg [31:0] inputs [0:MAXW-1];
    reg [63:0] expected [0:MAXW-1];

    task bus_write(input [31:0] a, input [31:0] d);
        begin
            @(negedge clk);
            we = 1'b1;
            addr = a;
            wdata = d;
            @(negedge clk);
            we = 1'b0;
        end
    endtask

    task bus_read(input [31:0] a, output [31:0] d);
        begin
            @(negedge clk);
            addr = a;
            #1;
            d = rdata;
        end
    endtask

    integer i, s, j, words_per_sample, errors, cycles_seen, timeout;
    reg [31:0] lo, hi, pred, status;
    reg [63:0] logit;

    initial begin
        $readmemh("meta.hex", meta);
        $readmemh("image_addr.hex", img_addr);
        $readmemh("image_data.hex", img_data);
        $readmemh("inputs.hex", inputs);
        $readmemh("expected.hex", expected);
        errors = 0;
        repeat (4) @(negedge clk);
        rst = 1'b0;
        for (i = 0; i < meta[0]; i = i + 1) bus_write(img_addr[i], img_data[i]);
        words_per_sample = (meta[2] + meta[4] - 1) / meta[4];
        for (s = 0; s < meta[1]; s = s + 1) begin
            for (j = 0; j < words_per_sample; j = j + 1) bus_write(32'h0800_0000 | j, inputs[s * words_per_sample + j]);
            bus_write(32'h0000_0000, 32'd1);
            timeout = 0;
            status = 32'd0;
            while (!status[0] && timeout < 1000000) begin
                bus_read(32'h0000_0001, status);
                timeout = timeout + 1;
            end
            if (!status[0]) begin
                $display("FAIL sample %0d: no done after %0d cycles", s, timeout);
                errors = errors + 1;
            end
            for (j = 0; j < meta[3]; j = j + 1) begin
                bus_read(32'h0000_0100 + 2 * j, lo);
                bus_read(32'h0000_0101 + 2 * j, hi);
                logit = {hi, lo};
                if (logit !== expected[s * (meta[3] + 1) + j]) begin
                    $display("FAIL sample %0d output %0d: rtl %h expected %h", s, j, logit,
                             expected[s * (meta[3] + 1) + j]);
                    errors = errors + 1;
                end
            end
            bus_read(32'h0000_0003, pred);
            if ({32'd0, pred} !== expected[s * (meta[3] + 1) + meta[3]]) begin
                $display("FAIL sample %0d argmax: rtl %0d expected %0d", s, pred, expected[s * (meta[3] + 1) + meta[3]]);
                errors = errors + 1;
            end
            bus_read(32'h0000_0002, lo);
            cycles_seen = lo;
        end
        if (errors == 0) $display("PASS %0d samples, %0d cycles per inference", meta[1], cycles_seen);
        else $display("FAIL %0d errors", errors);
        $finish;
    end

endmodule

`default_nettype wire
