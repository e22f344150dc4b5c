// A C API over hnswlib (header-only C++) for Swift. Cosine similarity on vectors the caller has
// L2-normalised (inner-product space). Searches and saves share the index; adds (which may grow it)
// and deletes take it exclusively. No C++ exception crosses this boundary.
#ifndef CHNSW_H
#define CHNSW_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct chnsw_index chnsw_index;

/// 1 when this CPU can keep vectors in half precision (x86-64 with AVX2, FMA and F16C; AArch64).
int chnsw_half_supported(void);
/// Rounds each value to the nearest half-precision float in place, as the graph stores vectors
/// (only where `chnsw_half_supported`).
void chnsw_round_to_half(float *values, size_t count);
/// `half`: vectors kept as IEEE half floats (half the memory; distances within about 1e-3); NULL
/// when that is unsupported here.
chnsw_index *chnsw_create(int dimension, int half, size_t capacity, size_t m, size_t ef_construction, size_t seed);
/// Loads a saved index into the given precision (converting a file saved in the other one); NULL
/// on failure with a message in `error`.
chnsw_index *chnsw_load(const char *path, int dimension, int half, char *error, size_t error_length);
/// 0 on success.
int chnsw_save(chnsw_index *index, const char *path);
void chnsw_free(chnsw_index *index);

/// Adds (or replaces) the vector under `label`, growing the index when full. 0 on success.
int chnsw_add(chnsw_index *index, const float *vector, size_t label);
/// Hides a label from searches. 0 on success, -1 when the label is unknown.
int chnsw_mark_deleted(chnsw_index *index, size_t label);
void chnsw_set_ef(chnsw_index *index, size_t ef);
/// Build breadth for vectors added from now on (a loaded index keeps the one it was saved with
/// until this is called).
void chnsw_set_ef_construction(chnsw_index *index, size_t ef_construction);
/// Writes up to `k` nearest labels and their distances (1 - cosine), nearest first; returns how many.
size_t chnsw_search(chnsw_index *index, const float *query, size_t k, size_t *labels, float *distances);
/// The highest label the index has ever held (deleted ones included), -1 when empty.
long long chnsw_max_label(chnsw_index *index);
/// Elements ever added, deleted ones included.
size_t chnsw_count(chnsw_index *index);
/// Fills `labels` with up to `capacity` labels present in the index (deleted ones excluded); returns how many.
size_t chnsw_labels(chnsw_index *index, size_t *labels, size_t capacity);
/// For each live label (of `only`, when not null), how alike it is to its closest neighbour on the
/// bottom layer (-2 without one): fills up to `capacity` of `labels` and `similarities`; returns how many.
size_t chnsw_link_similarities(chnsw_index *index, const size_t *only, size_t only_count, size_t *labels, float *similarities, size_t capacity);
/// The query's similarity to each of `labels` as stored (-2 where the label is absent or deleted).
void chnsw_similarities(chnsw_index *index, const float *query, const size_t *labels, size_t count, float *similarities);
/// Copies the vector a live label holds into `vector` (dimension floats, converted from half
/// precision when kept so); 0 on success, -1 when
/// the label is absent or deleted.
int chnsw_vector(chnsw_index *index, size_t label, float *vector);

#ifdef __cplusplus
}
#endif

#endif
