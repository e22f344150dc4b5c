#include "int8_kernels.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

int soma_int8_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
}

long soma_int8_packed_size(int outputs, int inner) { return (long)outputs * inner; }

void soma_int8_pack(const float *weights, int outputs, int inner, int8_t *packed, float *scales, int32_t *sums) {
    const int groups = inner / 4;
    for (int n = 0; n < outputs; n++) {
        const float *row = weights + (long)n * inner;
        float largest = 0;
        for (int k = 0; k < inner; k++) largest = fmaxf(largest, fabsf(row[k]));
        const float scale = largest > 0 ? largest / 127 : 1;
        int32_t sum = 0;
        int8_t *block = packed + (long)(n / 16) * groups * 64 + (n % 16) * 4;
        for (int k = 0; k < inner; k++) {
            const int value = (int)lrintf(row[k] / scale);
            const int8_t clamped = (int8_t)(value > 127 ? 127 : value < -127 ? -127 : value);
            block[(k / 4) * 64 + k % 4] = clamped;
            sum += clamped;
        }
        scales[n] = scale;
        sums[n] = sum;
    }
}

// Written for any CPU; the compiler vectorises it with whatever the build targets.
void soma_int8_quantize_rows(const float *input, int rows, int inner, int stride, uint8_t *quantized, int quantizedStride,
                             float *scale, int32_t *zero) {
    for (int r = 0; r < rows; r++) {
        const float *row = input + (long)r * stride;
        uint8_t *out = quantized + (long)r * quantizedStride;
        // The range always holds 0, so a zero activation is exactly representable.
        float low = 0, high = 0;
        for (int k = 0; k < inner; k++) {
            low = fminf(low, row[k]);
            high = fmaxf(high, row[k]);
        }
        const float step = high > low ? (high - low) / 255 : 1;
        const float inverse = 1 / step;
        const int32_t offset = (int32_t)lrintf(-low * inverse);
        for (int k = 0; k < inner; k++) {
            const float value = nearbyintf(row[k] * inverse) + (float)offset;
            out[k] = (uint8_t)(value < 0 ? 0 : value > 255 ? 255 : value);
        }
        scale[r] = step;
        zero[r] = offset;
    }
}

// One tile: `ROWS` rows (up to 6) by `BLOCKS` blocks of 16 outputs (1 or 2): 12 accumulators at
// most, each k-group one broadcast per row and one `vpdpbusd` per accumulator.
static inline __attribute__((always_inline)) VNNI void tile(const uint8_t *quantized, int quantizedStride, const float *rowScale,
                                                            const int32_t *rowZero, const int ROWS, const int BLOCKS, int inner,
                                                            const int8_t *block, const float *scales, const int32_t *sums,
                                                            float *output, int outputStride) {
    __m512i sum[6][2];
    for (int r = 0; r < ROWS; r++)
        for (int b = 0; b < BLOCKS; b++) sum[r][b] = _mm512_setzero_si512();
    const int groups = inner / 4;
    const int8_t *next = block + (long)groups * 64;
    for (int g = 0; g < groups; g++) {
        const __m512i first = _mm512_loadu_si512(block + g * 64);
        const __m512i second = BLOCKS > 1 ? _mm512_loadu_si512(next + g * 64) : first;
        for (int r = 0; r < ROWS; r++) {
            int32_t four;
            memcpy(&four, quantized + (long)r * quantizedStride + g * 4, 4);
            const __m512i broadcast = _mm512_set1_epi32(four);
            sum[r][0] = _mm512_dpbusd_epi32(sum[r][0], broadcast, first);
            if (BLOCKS > 1) sum[r][1] = _mm512_dpbusd_epi32(sum[r][1], broadcast, second);
        }
    }
    for (int r = 0; r < ROWS; r++) {
        for (int b = 0; b < BLOCKS; b++) {
            // Σ (q - zero)·w = Σ q·w - zero·Σ w, then back to floats with the row's and the output's steps.
            const __m512i weightSums = _mm512_loadu_si512(sums + b * 16);
            const __m512i exact = _mm512_sub_epi32(sum[r][b], _mm512_mullo_epi32(_mm512_set1_epi32(rowZero[r]), weightSums));
            const __m512 steps = _mm512_mul_ps(_mm512_set1_ps(rowScale[r]), _mm512_loadu_ps(scales + b * 16));
            _mm512_storeu_ps(output + (long)r * outputStride + b * 16, _mm512_mul_ps(_mm512_cvtepi32_ps(exact), steps));
        }
    }
}

#define TILE(R, B) \
    tile(quantized + (long)row * quantizedStride, quantizedStride, rowScale + row, rowZero + row, R, B, inner, block, scales + column, \
         sums + column, output + (long)row * outputStride + column, outputStride)

VNNI void soma_int8_product(const uint8_t *quantized, int quantizedStride, const float *rowScale, const int32_t *rowZero, int rows,
                            int inner, const int8_t *packed, const float *scales, const int32_t *sums, int first, int count,
                            float *output, int outputStride) {
    const int groups = inner / 4;
    // Rows in chunks whose quantised activations stay in cache while every column tile passes over them.
    const int chunk = 96;
    for (int start = 0; start < rows; start += chunk) {
        const int end = start + chunk < rows ? start + chunk : rows;
        for (int column = first; column < first + count; column += 32) {
            const int8_t *block = packed + (long)(column / 16) * groups * 64;
            const int wide = first + count - column >= 32;
            int row = start;
            for (; row + 6 <= end; row += 6) {
                if (wide) TILE(6, 2); else TILE(6, 1);
            }
            switch ((end - row) * 2 + wide) {
            case 10: TILE(5, 1); break;
            case 11: TILE(5, 2); break;
            case 8: TILE(4, 1); break;
            case 9: TILE(4, 2); break;
            case 6: TILE(3, 1); break;
            case 7: TILE(3, 2); break;
            case 4: TILE(2, 1); break;
            case 5: TILE(2, 2); break;
            case 2: TILE(1, 1); break;
            case 3: TILE(1, 2); break;
            default: break;
            }
        }
    }
}
