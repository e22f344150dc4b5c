#include "elementwise_kernels.h"

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

int soma_avx512_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

// exp(x) for x <= 0 as the softmax meets it: x = n·ln2 + r with |r| <= ln2/2, Cephes' degree-6
// polynomial for e^r (within 2 ulp), scaled by 2^n; far below -87 the result is 0, as expf gives.
static inline __attribute__((always_inline)) AVX512 __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

static inline __attribute__((always_inline)) AVX512 __mmask16 tail(int remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
}

AVX512 void soma_softmax_rows(float *scores, int rows, int count) {
    for (int r = 0; r < rows; r++) {
        float *row = scores + (long)r * count;
        __m512 largest = _mm512_set1_ps(-__builtin_inff());
        for (int k = 0; k < count; k += 16) largest = _mm512_max_ps(largest, _mm512_maskz_loadu_ps(tail(count - k), row + k));
        const __m512 shift = _mm512_set1_ps(_mm512_reduce_max_ps(largest));
        __m512 sum = _mm512_setzero_ps();
        for (int k = 0; k < count; k += 16) {
            const __mmask16 mask = tail(count - k);
            const __m512 value = exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, row + k), shift));
            _mm512_mask_storeu_ps(row + k, mask, value);
            sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(mask, value));
        }
        const __m512 inverse = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
        for (int k = 0; k < count; k += 16) {
            const __mmask16 mask = tail(count - k);
            _mm512_mask_storeu_ps(row + k, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + k), inverse));
        }
    }
}

// erf on [-4, 4] (±1 outside in single precision) as an odd polynomial over an even one, Eigen's
// coefficients, the same as the Swift loop's (`Kernels.erf`).
static inline __attribute__((always_inline)) AVX512 __m512 bounded_erf(__m512 value) {
    const __m512 x = _mm512_min_ps(_mm512_max_ps(value, _mm512_set1_ps(-4.0f)), _mm512_set1_ps(4.0f));
    const __m512 x2 = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-2.72614225801306e-10f);
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(2.77068142495902e-08f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-2.10102402082508e-06f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-5.69250639462346e-05f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-7.34990630326855e-04f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-2.95459980854025e-03f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-1.60960333262415e-02f));
    __m512 q = _mm512_set1_ps(-1.45660718464996e-05f);
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(-2.13374055278905e-04f));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(-1.68282697438203e-03f));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(-7.37332916720468e-03f));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(-1.42647390514189e-02f));
    return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}

AVX512 void soma_bias_gelu(float *values, int rows, int width, const float *bias, int stride) {
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), inverseRootTwo = _mm512_set1_ps(0.7071067811865476f);
    for (int r = 0; r < rows; r++) {
        float *line = values + (long)r * stride;
        for (int k = 0; k < width; k += 16) {
            const __mmask16 mask = tail(width - k);
            const __m512 x = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, line + k), _mm512_maskz_loadu_ps(mask, bias + k));
            const __m512 gelu = _mm512_mul_ps(_mm512_mul_ps(half, x), _mm512_add_ps(one, bounded_erf(_mm512_mul_ps(x, inverseRootTwo))));
            _mm512_mask_storeu_ps(line + k, mask, gelu);
        }
    }
}

AVX512 void soma_bias_residual_norm(const float *values, const float *bias, float *residual, int rows, int width, const float *weight,
                                    const float *shift, float epsilon) {
    for (int r = 0; r < rows; r++) {
        float *line = residual + (long)r * width;
        const float *source = values + (long)r * width;
        __m512 sum = _mm512_setzero_ps();
        for (int k = 0; k < width; k += 16) {
            const __mmask16 mask = tail(width - k);
            const __m512 value = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, line + k),
                                               _mm512_add_ps(_mm512_maskz_loadu_ps(mask, source + k), _mm512_maskz_loadu_ps(mask, bias + k)));
            _mm512_mask_storeu_ps(line + k, mask, value);
            sum = _mm512_add_ps(sum, value);
        }
        const __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / (float)width);
        __m512 squares = _mm512_setzero_ps();
        for (int k = 0; k < width; k += 16) {
            const __mmask16 mask = tail(width - k);
            const __m512 centred = _mm512_maskz_sub_ps(mask, _mm512_maskz_loadu_ps(mask, line + k), mean);
            squares = _mm512_fmadd_ps(centred, centred, squares);
        }
        const float variance = _mm512_reduce_add_ps(squares) / (float)width;
        const __m512 scale = _mm512_set1_ps(1.0f / __builtin_sqrtf(variance + epsilon));
        for (int k = 0; k < width; k += 16) {
            const __mmask16 mask = tail(width - k);
            const __m512 normal = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, line + k), mean), scale);
            _mm512_mask_storeu_ps(line + k, mask,
                                  _mm512_fmadd_ps(normal, _mm512_maskz_loadu_ps(mask, weight + k), _mm512_maskz_loadu_ps(mask, shift + k)));
        }
    }
}
