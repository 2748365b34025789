// Flat extern "C" bridge between Python (ctypes) and the Verilated reram_top model.
// Python drives whole batches through rs_run_batch; every call checks its arguments.
#include <cstdint>
#include <cstring>
#include "Vreram_top.h"
#include "verilated.h"
#include "reram_addrmap.h"
#include "reram_params.h"
#if VM_COVERAGE
#include "verilated_cov.h"
#endif
#if VM_TRACE
#if RERAM_TRACE_VCD
#include "verilated_vcd_c.h"
typedef VerilatedVcdC TraceFile;
#else
#include "verilated_fst_c.h"
typedef VerilatedFstC TraceFile;
#endif
#endif

namespace {
struct Sim {
    VerilatedContext* ctx;
    Vreram_top* top;
    uint64_t ticks;
#if VM_TRACE
    TraceFile* tfp;
#endif
};

void tick(Sim* s) {
    s->top->clk = 0;
    s->top->eval();
#if VM_TRACE
    if (s->tfp) s->tfp->dump(2 * s->ticks);
#endif
    s->top->clk = 1;
    s->top->eval();
#if VM_TRACE
    if (s->tfp) s->tfp->dump(2 * s->ticks + 1);
#endif
    s->ticks++;
}

void write_word(Sim* s, uint32_t addr, uint32_t data) {
    s->top->host_we = 1;
    s->top->host_addr = addr;
    s->top->host_wdata = data;
    tick(s);
    s->top->host_we = 0;
}

uint32_t read_word(Sim* s, uint32_t addr) {
    s->top->host_we = 0;
    s->top->host_addr = addr;
    s->top->eval();
    return s->top->host_rdata;
}
// Signals of any width: Verilator maps <= 64-bit ports to integers and wider ones to VlWide word arrays.
template <typename T> inline uint32_t word32(const T& v, int i) { return i >= 2 ? 0u : (uint32_t)((uint64_t)v >> (32 * i)); }
template <std::size_t N> inline uint32_t word32(const VlWide<N>& v, int i) { return v[i]; }
template <typename T> inline bool bit_of(const T& v, int i) { return ((uint64_t)v >> i) & 1u; }
template <std::size_t N> inline bool bit_of(const VlWide<N>& v, int i) { return (v[i / 32] >> (i % 32)) & 1u; }
template <typename T> inline void set_words(T& v, const uint32_t* w) { v = (T)((uint64_t)w[0] | ((uint64_t)w[1] << 32)); }
template <std::size_t N> inline void set_words(VlWide<N>& v, const uint32_t* w) { for (std::size_t i = 0; i < N; i++) v[i] = w[i]; }

}  // namespace

extern "C" {

int rs_abi_version() { return RERAM_ABI; }  // reram.rtl.bridge.ABI (reram_params.h)

void* rs_create() {
    Sim* s = new Sim();
    s->ctx = new VerilatedContext;
    // the command line of this simulator: the macros' $value$plusargs reads it (Verilator aborts when none was set);
    // rs_plusarg adds to it
    static const char* argv0[1] = {"reram"};
    s->ctx->commandArgs(1, argv0);
    s->top = new Vreram_top{s->ctx};
    s->ticks = 0;
#if VM_TRACE
    s->tfp = nullptr;
#endif
    return s;
}

// A simulator plusarg (e.g. "+gmem=DIR", the conductance preload of reram_xbar_macro): before the first evaluation.
int rs_plusarg(void* h, const char* arg) {
    if (!h || !arg) return -1;
    Sim* s = static_cast<Sim*>(h);
    const char* argv[1] = {arg};
    s->ctx->commandArgsAdd(1, argv);
    return 0;
}

void rs_destroy(void* h) {
    Sim* s = static_cast<Sim*>(h);
    if (!s) return;
#if VM_TRACE
    if (s->tfp) { s->tfp->close(); delete s->tfp; }
#endif
    s->top->final();
    delete s->top;
    delete s->ctx;
    delete s;
}

int rs_trace_open(void* h, const char* path) {
#if VM_TRACE
    Sim* s = static_cast<Sim*>(h);
    s->ctx->traceEverOn(true);
    s->tfp = new TraceFile;
    s->top->trace(s->tfp, 99);
    s->tfp->open(path);
    return 0;
#else
    (void)h; (void)path;
    return -1;
#endif
}

void rs_trace_close(void* h) {
#if VM_TRACE
    Sim* s = static_cast<Sim*>(h);
    if (s->tfp) { s->tfp->close(); delete s->tfp; s->tfp = nullptr; }
#else
    (void)h;
#endif
}

void rs_reset(void* h) {
    Sim* s = static_cast<Sim*>(h);
    s->top->host_we = 0;
    s->top->host_addr = 0;
    s->top->host_wdata = 0;
    s->top->in_valid = 0;
    s->top->out_ack = 0;
    s->top->rst = 1;
    for (int i = 0; i < 4; i++) tick(s);
    s->top->rst = 0;
    tick(s);
}

void rs_write(void* h, uint32_t addr, uint32_t data) { write_word(static_cast<Sim*>(h), addr, data); }

void rs_tick(void* h, int64_t n) {
    Sim* s = static_cast<Sim*>(h);
    for (int64_t i = 0; i < n; i++) tick(s);
}

uint32_t rs_read(void* h, uint32_t addr) { return read_word(static_cast<Sim*>(h), addr); }

int64_t rs_write_block(void* h, const uint32_t* addrs, const uint32_t* data, int64_t n) {
    if (!h || !addrs || !data || n < 0) return -1;
    Sim* s = static_cast<Sim*>(h);
    for (int64_t i = 0; i < n; i++) write_word(s, addrs[i], data[i]);
    return n;
}

// Stream n samples through the pipeline: the input port takes one beat (IN_CODES codes) per cycle while it is
// ready, the host reads each inference's logits the cycle they show ready and acknowledges them in that cycle.
// inputs: n x n_in codes (uint16). logits: n x N_LOGITS (int64). preds: n. done_cycle: the cycle (from the first
// beat) each sample's logits showed ready. capture: n x capture_stride codes of the hidden layers' outputs (every
// output-buffer write of hidden layer l lands at capture_off[l] + address; the last write wins), or null.
// jitter_seed != 0: a slow, irregular host -- pseudo-random idle cycles (0-2) before every input beat and a
// pseudo-random delay (0-5 cycles) before it reads ready logits (back-pressure on the pipeline).
// stall_seed != 0: the host also stalls every layer controller (the DEBUG register's STALL bit) at pseudo-random
// cycles, mid-inference, for 1-6 cycles at a time (about one cycle in eight stalled); released before it returns.
// Returns the number of samples finished; on a watchdog timeout it stops there and stores the cycle and the
// layer controllers' states in hang[0] and hang[1 + k] (the word STATES + k: layers 8k .. 8k + 7,
// k < RERAM_STATE_WORDS).
int64_t rs_run_batch(void* h, const uint16_t* inputs, int64_t n, int32_t n_in, int64_t* logits, int32_t* preds,
                     uint32_t* done_cycle, uint64_t max_cycles, uint32_t* hang, int64_t* capture,
                     int64_t capture_stride, const int64_t* capture_off, uint64_t jitter_seed,
                     uint64_t stall_seed) {
    if (!h || !inputs || !logits || !preds || !done_cycle || !hang || n < 0 || n_in != RERAM_IN_SIZE) return -1;
    if (capture && (!capture_off || capture_stride <= 0)) return -1;
    Sim* s = static_cast<Sim*>(h);
    Vreram_top* top = s->top;
    const int32_t xmask = (1 << RERAM_XW) - 1;
    uint32_t words[RERAM_IN_WORDS + 2];
    int64_t next_in = 0, next_out = 0, lsample[RERAM_N_LAYERS];
    int32_t beat = 0;
    uint64_t rng = jitter_seed;
    auto jitter = [&](uint32_t m) -> int32_t {
        if (!jitter_seed) return 0;
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        return (int32_t)((rng >> 33) % m);
    };
    uint64_t srng = stall_seed;
    auto stall_draw = [&](uint32_t m) -> int32_t {
        srng = srng * 6364136223846793005ULL + 1442695040888963407ULL;
        return (int32_t)((srng >> 33) % m);
    };
    const uint32_t debug_addr = reram_addr(RERAM_R_REG, RERAM_A_DEBUG);
    int32_t stall_left = 0;  // cycles of the current stall still to come (0: running)
    int32_t in_wait = jitter(3), out_wait = -1;
    for (int l = 0; l < RERAM_N_LAYERS; l++) lsample[l] = 0;
    for (uint64_t t = 0; next_out < n; t++) {
        if (t >= max_cycles) {
            hang[0] = (uint32_t)t;
            for (uint32_t k = 0; k < RERAM_STATE_WORDS; k++)
                hang[1 + k] = read_word(s, reram_addr(RERAM_R_REG, RERAM_A_STATES + k));
            return next_out;
        }
        const bool send = next_in < n && top->in_ready && in_wait == 0;
        if (in_wait > 0) in_wait--;
        top->in_valid = send;
        if (send) {
            for (int i = 0; i < RERAM_IN_WORDS + 2; i++) words[i] = 0;
            const uint16_t* x = inputs + next_in * n_in;
            for (int c = 0; c < RERAM_IN_CODES; c++) {
                const int idx = beat * RERAM_IN_CODES + c;
                if (idx >= n_in) break;
                const uint32_t v = (uint32_t)(x[idx] & xmask);
                const int b = c * RERAM_XW;
                words[b / 32] |= v << (b % 32);
                if (b % 32 + RERAM_XW > 32) words[b / 32 + 1] |= v >> (32 - b % 32);
            }
            set_words(top->in_data, words);
        }
        top->out_ack = 0;
        // outputs below depend on registers only: they are current since the last tick's evaluation
        if (capture) {
            for (int l = 0; l + 1 < RERAM_N_LAYERS; l++) {
                if (lsample[l] >= n) continue;
                for (int k = 0; k < RERAM_ACT_LANES; k++) {
                    const int lane = l * RERAM_ACT_LANES + k;
                    if (!bit_of(top->dbg_we, lane)) continue;
                    const uint32_t a = word32(top->dbg_addr, lane);
                    const int32_t v = (int32_t)word32(top->dbg_data, lane);  // signed codes come sign-extended
                    capture[lsample[l] * capture_stride + capture_off[l] + a] = (int64_t)v;
                }
                if (bit_of(top->dbg_fin, l)) lsample[l]++;
            }
        }
        bool take = false;
        if (top->out_ready) {
            if (out_wait < 0) out_wait = jitter(6);
            take = out_wait == 0;
            if (out_wait > 0) out_wait--;
        }
        if (take) {
            out_wait = -1;
            for (int32_t j = 0; j < RERAM_N_LOGITS; j++) {
                uint64_t lo = read_word(s, reram_addr(RERAM_R_LOGIT, 2u * (uint32_t)j));
                uint64_t hi = read_word(s, reram_addr(RERAM_R_LOGIT, 2u * (uint32_t)j + 1u));
                logits[next_out * RERAM_N_LOGITS + j] = (int64_t)((hi << 32) | lo);
            }
            preds[next_out] = (int32_t)read_word(s, reram_addr(RERAM_R_REG, RERAM_A_PRED));
            done_cycle[next_out] = (uint32_t)t;
            next_out++;
            top->out_ack = 1;
        }
        if (stall_seed) {  // a register write in this cycle: STALL on or off (register writes are legal while busy)
            bool write = false;
            uint32_t value = 0;
            if (stall_left > 0) {
                if (--stall_left == 0) write = true;
            } else if (stall_draw(16) == 0) {
                stall_left = 1 + stall_draw(6);
                write = true;
                value = 1u << RERAM_B_DEBUG_STALL;
            }
            if (write) {
                top->host_we = 1;
                top->host_addr = debug_addr;
                top->host_wdata = value;
            }
        }
        tick(s);
        top->host_we = 0;
        top->out_ack = 0;
        top->in_valid = 0;
        if (send) {
            in_wait = jitter(3);
            if (++beat == RERAM_IN_BEATS) {
                beat = 0;
                next_in++;
            }
        }
    }
    if (stall_left > 0) write_word(s, debug_addr, 0u);
    return n;
}

// Write the line and toggle coverage gathered so far (a build with coverage, build_library(coverage=True)) to a
// Verilator coverage file (verilator_coverage reads it); -1 in a build without coverage.
int rs_coverage_write(void* h, const char* path) {
#if VM_COVERAGE
    Sim* s = static_cast<Sim*>(h);
    if (!s || !path) return -1;
    s->ctx->coveragep()->write(path);
    return 0;
#else
    (void)h;
    (void)path;
    return -1;
#endif
}

void rs_counters(void* h, uint64_t* out, int32_t n) {
    Sim* s = static_cast<Sim*>(h);
    for (int32_t k = 0; k < n; k++) {
        uint64_t lo = read_word(s, reram_addr(RERAM_R_REG, RERAM_A_COUNT + 2u * (uint32_t)k));
        uint64_t hi = read_word(s, reram_addr(RERAM_R_REG, RERAM_A_COUNT + 2u * (uint32_t)k + 1u));
        out[k] = (hi << 32) | lo;
    }
}

}  // extern "C"
