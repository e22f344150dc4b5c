// The encoder's element-wise passes on AVX-512 F: softmax with a polynomial exp, bias + GELU, and
// bias + residual + LayerNorm. Chosen at run time: `soma_avx512_supported()` says whether this CPU
// has the instructions; without them the encoder runs its portable Swift loops instead.
#ifndef SOMA_ELEMENTWISE_KERNELS_H
#define SOMA_ELEMENTWISE_KERNELS_H

/// Non-zero when the CPU runs AVX-512 F.
int soma_avx512_supported(void);

/// Each of `rows` rows of `count` scores (contiguous) becomes its softmax.
void soma_softmax_rows(float *scores, int rows, int count);

/// values[r][c] = GELU(values[r][c] + bias[c]) with BERT's erf form; rows `stride` floats apart.
void soma_bias_gelu(float *values, int rows, int width, const float *bias, int stride);

/// residual[r] = LayerNorm(values[r] + bias + residual[r]) with `weight` and `shift`; rows `width` apart.
void soma_bias_residual_norm(const float *values, const float *bias, float *residual, int rows, int width, const float *weight,
                             const float *shift, float epsilon);
#endif
