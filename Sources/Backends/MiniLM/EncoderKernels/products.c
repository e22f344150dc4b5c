#include "products.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define AVX512 __attribute__((target("avx512f")))

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

VNNI void soma_int8_quantize_rows(const float *input, int rows, int inner, int stride, uint8_t *quantized, int quantizedStride,
                                  float *scale, int32_t *zero) {
    const int whole = inner / 16 * 16;
    for (int r = 0; r < rows; r++) {
        const float *row = input + (long)r * stride;
        uint8_t *out = quantized + (long)r * quantizedStride;
        // The range always holds 0, so a zero activation is exactly representable.
        __m512 lows = _mm512_setzero_ps(), highs = _mm512_setzero_ps();
        for (int k = 0; k < whole; k += 16) {
            const __m512 values = _mm512_loadu_ps(row + k);
            lows = _mm512_min_ps(lows, values);
            highs = _mm512_max_ps(highs, values);
        }
        float low = _mm512_reduce_min_ps(lows), high = _mm512_reduce_max_ps(highs);
        for (int k = whole; k < inner; k++) {
            low = row[k] < low ? row[k] : low;
            high = row[k] > high ? row[k] : high;
        }
        const float step = high > low ? (high - low) / 255 : 1;
        const float inverse = 1 / step;
        const int32_t offset = (int32_t)lrintf(-low * inverse);
        const __m512 inverses = _mm512_set1_ps(inverse);
        const __m512i offsets = _mm512_set1_epi32(offset);
        for (int k = 0; k < whole; k += 16) {
            // Rounded to nearest, shifted by the zero point; the conversion to bytes saturates to 0...255.
            const __m512i levels = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(row + k), inverses)), offsets);
            _mm_storeu_si128((__m128i *)(out + k), _mm512_cvtusepi32_epi8(_mm512_max_epi32(levels, _mm512_setzero_si512())));
        }
        for (int k = whole; k < inner; k++) {
            const long level = lrintf(row[k] * inverse) + offset;
            out[k] = (uint8_t)(level < 0 ? 0 : level > 255 ? 255 : level);
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
    // One pointer per row, so each broadcast is a base plus the shared offset, with no address arithmetic per row.
    const uint8_t *row[6];
    for (int r = 0; r < ROWS; r++) {
        row[r] = quantized + (long)r * quantizedStride;
        for (int b = 0; b < BLOCKS; b++) sum[r][b] = _mm512_setzero_si512();
    }
    const int groups = inner / 4;
    const int8_t *next = block + (long)groups * 64;
    for (int g = 0; g < groups; g++) {
        const __m512i first = _mm512_loadu_si512(block + g * 64);
        const __m512i second = BLOCKS > 1 ? _mm512_loadu_si512(next + g * 64) : first;
        for (int r = 0; r < ROWS; r++) {
            int32_t four;
            memcpy(&four, row[r] + g * 4, 4);
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

// The tiles of a product, the same walk in both precisions: rows in chunks whose activations stay in
// cache while every column tile passes over them; a tile is 6 rows (fewer at a chunk's end) by 32
// outputs (16 at the end). TILE(R, B) computes the tile at `row` and `column`.
#define EACH_TILE(TILE)                                                                  \
    for (int start = 0; start < rows; start += 96) {                                     \
        const int end = start + 96 < rows ? start + 96 : rows;                           \
        for (int column = first; column < first + count; column += 32) {                \
            const int wide = first + count - column >= 32;                               \
            int row = start;                                                             \
            for (; row + 6 <= end; row += 6) {                                           \
                if (wide) TILE(6, 2); else TILE(6, 1);                                   \
            }                                                                            \
            switch ((end - row) * 2 + wide) {                                            \
            case 10: TILE(5, 1); break;                                                  \
            case 11: TILE(5, 2); break;                                                  \
            case 8: TILE(4, 1); break;                                                   \
            case 9: TILE(4, 2); break;                                                   \
            case 6: TILE(3, 1); break;                                                   \
            case 7: TILE(3, 2); break;                                                   \
            case 4: TILE(2, 1); break;                                                   \
            case 5: TILE(2, 2); break;                                                   \
            case 2: TILE(1, 1); break;                                                   \
            case 3: TILE(1, 2); break;                                                   \
            default: break;                                                              \
            }                                                                            \
        }                                                                                \
    }

#define INT8_TILE(R, B)                                                                                                          \
    tile(quantized + (long)row * quantizedStride, quantizedStride, rowScale + row, rowZero + row, R, B, inner,                     \
         packed + (long)(column / 16) * inner * 16, scales + column, sums + column, output + (long)row * outputStride + column, \
         outputStride)

VNNI void soma_int8_product(const uint8_t *quantized, int quantizedStride, const float *rowScale, const int32_t *rowZero, int rows,
                            int inner, const int8_t *packed, const float *scales, const int32_t *sums, int first, int count,
                            float *output, int outputStride) {
    EACH_TILE(INT8_TILE)
}

long soma_float_packed_size(int outputs, int inner) { return (long)outputs * inner; }

void soma_float_pack(const float *weights, int outputs, int inner, float *packed) {
    for (int n = 0; n < outputs; n++)
        for (int k = 0; k < inner; k++) packed[((long)(n / 16) * inner + k) * 16 + n % 16] = weights[(long)n * inner + k];
}

// The fp32 tile: per input column one broadcast per row and one FMA per accumulator.
static inline __attribute__((always_inline)) AVX512 void float_tile(const float *input, int inputStride, const int ROWS, const int BLOCKS,
                                                                    int inner, const float *block, float *output, int outputStride) {
    __m512 sum[6][2];
    const float *row[6];
    for (int r = 0; r < ROWS; r++) {
        row[r] = input + (long)r * inputStride;
        for (int b = 0; b < BLOCKS; b++) sum[r][b] = _mm512_setzero_ps();
    }
    const float *next = block + (long)inner * 16;
    for (int k = 0; k < inner; k++) {
        const __m512 first = _mm512_loadu_ps(block + k * 16);
        const __m512 second = BLOCKS > 1 ? _mm512_loadu_ps(next + k * 16) : first;
        for (int r = 0; r < ROWS; r++) {
            const __m512 broadcast = _mm512_set1_ps(row[r][k]);
            sum[r][0] = _mm512_fmadd_ps(broadcast, first, sum[r][0]);
            if (BLOCKS > 1) sum[r][1] = _mm512_fmadd_ps(broadcast, second, sum[r][1]);
        }
    }
    for (int r = 0; r < ROWS; r++)
        for (int b = 0; b < BLOCKS; b++) _mm512_storeu_ps(output + (long)r * outputStride + b * 16, sum[r][b]);
}

#define FLOAT_TILE(R, B)                                                                                          \
    float_tile(input + (long)row * inner, inner, R, B, inner, packed + (long)(column / 16) * inner * 16, \
               output + (long)row * outputStride + column, outputStride)

AVX512 void soma_float_product(const float *input, int rows, int inner, const float *packed, int first, int count, float *output,
                               int outputStride) {
    EACH_TILE(FLOAT_TILE)
}
