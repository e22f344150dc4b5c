#include "chnsw.h"

#include <hnswlib/hnswlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

// Half precision on x86-64 through F16C (every AVX2 CPU has it), the dot product in AVX-512 where
// the CPU has it; AArch64 converts natively. Elsewhere `chnsw_half_supported` is 0 and the caller
// keeps single precision.
#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t to_half(float value) { return _cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT); }
__attribute__((target("f16c"))) float from_half(uint16_t value) { return _cvtsh_ss(value); }

__attribute__((target("avx512f,f16c"))) float half_dot_avx512(const uint16_t *a, const uint16_t *b, size_t count) {
    __m512 sum = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(a + i)));
        __m512 y = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + i)));
        sum = _mm512_fmadd_ps(x, y, sum);
    }
    float total = _mm512_reduce_add_ps(sum);
    for (; i < count; ++i) total += from_half(a[i]) * from_half(b[i]);
    return total;
}

__attribute__((target("avx2,fma,f16c"))) float half_dot_avx2(const uint16_t *a, const uint16_t *b, size_t count) {
    __m256 sum = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 x = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + i)));
        __m256 y = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b + i)));
        sum = _mm256_fmadd_ps(x, y, sum);
    }
    __m128 folded = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    folded = _mm_add_ps(folded, _mm_movehl_ps(folded, folded));
    folded = _mm_add_ss(folded, _mm_shuffle_ps(folded, folded, 1));
    float total = _mm_cvtss_f32(folded);
    for (; i < count; ++i) total += from_half(a[i]) * from_half(b[i]);
    return total;
}

bool half_supported() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

float (*half_dot_kernel())(const uint16_t *, const uint16_t *, size_t) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? half_dot_avx512 : half_dot_avx2;
}
#elif defined(__aarch64__)
uint16_t to_half(float value) {
    _Float16 half = static_cast<_Float16>(value);
    uint16_t bits;
    std::memcpy(&bits, &half, sizeof bits);
    return bits;
}
float from_half(uint16_t bits) {
    _Float16 half;
    std::memcpy(&half, &bits, sizeof bits);
    return static_cast<float>(half);
}
float half_dot_portable(const uint16_t *a, const uint16_t *b, size_t count) {
    float total = 0;
    for (size_t i = 0; i < count; ++i) total += from_half(a[i]) * from_half(b[i]);
    return total;
}
bool half_supported() { return true; }
float (*half_dot_kernel())(const uint16_t *, const uint16_t *, size_t) { return half_dot_portable; }
#else
uint16_t to_half(float) { return 0; }
float from_half(uint16_t) { return 0; }
bool half_supported() { return false; }
float (*half_dot_kernel())(const uint16_t *, const uint16_t *, size_t) { return nullptr; }
#endif

// Inner-product distance (1 - dot, as hnswlib's InnerProductSpace) over vectors kept as IEEE half
// floats: half the memory of single precision. The parameter starts with the dimension because
// hnswlib reads it there (getDataByLabel).
class HalfInnerProductSpace : public hnswlib::SpaceInterface<float> {
    struct Parameter {
        size_t dimension;
        float (*dot)(const uint16_t *, const uint16_t *, size_t);
    } parameter;

    static float distance(const void *a, const void *b, const void *raw) {
        auto parameter = static_cast<const Parameter *>(raw);
        return 1.0f - parameter->dot(static_cast<const uint16_t *>(a), static_cast<const uint16_t *>(b), parameter->dimension);
    }

public:
    explicit HalfInnerProductSpace(size_t dimension) : parameter{dimension, half_dot_kernel()} {}
    size_t get_data_size() override { return parameter.dimension * sizeof(uint16_t); }
    hnswlib::DISTFUNC<float> get_dist_func() override { return distance; }
    void *get_dist_func_param() override { return &parameter; }
};

/// Rewrites a loaded graph's vectors from the precision its file was saved in to the index's: the
/// links stay as they are, so a change of precision costs one pass over the vectors instead of a
/// rebuild. hnswlib keeps each element as [level-0 links | vector | label].
void convert_vectors(hnswlib::HierarchicalNSW<float> &graph, size_t dimension, bool to_half_precision) {
    size_t links = graph.offsetData_;
    size_t old_size = graph.size_data_per_element_;
    size_t new_data = dimension * (to_half_precision ? sizeof(uint16_t) : sizeof(float));
    size_t new_size = links + new_data + sizeof(hnswlib::labeltype);
    char *memory = static_cast<char *>(std::malloc(graph.max_elements_ * new_size));
    if (memory == nullptr) throw std::runtime_error("not enough memory to convert the saved index");
    for (size_t element = 0; element < graph.cur_element_count; ++element) {
        const char *from = graph.data_level0_memory_ + element * old_size;
        char *to = memory + element * new_size;
        std::memcpy(to, from, links);
        if (to_half_precision) {
            auto source = reinterpret_cast<const float *>(from + links);
            auto target = reinterpret_cast<uint16_t *>(to + links);
            for (size_t i = 0; i < dimension; ++i) target[i] = to_half(source[i]);
        } else {
            auto source = reinterpret_cast<const uint16_t *>(from + links);
            auto target = reinterpret_cast<float *>(to + links);
            for (size_t i = 0; i < dimension; ++i) target[i] = from_half(source[i]);
        }
        std::memcpy(to + links + new_data, from + graph.label_offset_, sizeof(hnswlib::labeltype));
    }
    std::free(graph.data_level0_memory_);
    graph.data_level0_memory_ = memory;
    graph.size_data_per_element_ = new_size;
    graph.label_offset_ = links + new_data;
}

}  // namespace

struct chnsw_index {
    int dimension;
    bool half;
    std::unique_ptr<hnswlib::SpaceInterface<float>> space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
    // Shared: search. Exclusive: add (with resize), delete, save.
    std::shared_mutex lock;

    void make_space() {
        if (half) space = std::make_unique<HalfInnerProductSpace>(dimension);
        else space = std::make_unique<hnswlib::InnerProductSpace>(dimension);
    }

    size_t element_size() const { return dimension * (half ? sizeof(uint16_t) : sizeof(float)); }

    /// The vector as the graph stores it: itself in single precision, a converted copy in half.
    const void *stored(const float *vector, std::vector<uint16_t> &buffer) const {
        if (!half) return vector;
        buffer.resize(dimension);
        for (int i = 0; i < dimension; ++i) buffer[i] = to_half(vector[i]);
        return buffer.data();
    }
};

extern "C" {

int chnsw_half_supported(void) { return half_supported() ? 1 : 0; }

chnsw_index *chnsw_create(int dimension, int half, size_t capacity, size_t m, size_t ef_construction, size_t seed) {
    try {
        if (half && !half_supported()) return nullptr;
        auto index = new chnsw_index();
        index->dimension = dimension;
        index->half = half != 0;
        index->make_space();
        index->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space.get(), capacity < 16 ? 16 : capacity, m, ef_construction, seed);
        return index;
    } catch (...) {
        return nullptr;
    }
}

chnsw_index *chnsw_load(const char *path, int dimension, int half, char *error, size_t error_length) {
    auto index = new chnsw_index();
    try {
        if (half && !half_supported()) throw std::runtime_error("this CPU cannot convert half-precision floats");
        index->dimension = dimension;
        index->half = half != 0;
        index->make_space();
        // Room for a quarter more than the file holds: hnswlib would take the saved capacity (up to
        // twice the elements), and sizes a lock, a level and a pointer per slot at once.
        size_t header[3] = {0, 0, 0};  // offsetLevel0_, max_elements_, cur_element_count
        if (FILE *file = std::fopen(path, "rb")) {
            if (std::fread(header, sizeof header[0], 3, file) != 3) header[2] = 0;
            std::fclose(file);
        }
        size_t capacity = header[2] + header[2] / 4 + 1024;
        index->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space.get(), std::string(path), false, capacity);
        // hnswlib takes the element size from the space, not the file: compare, and convert a file
        // kept in the other precision.
        size_t saved = index->graph->label_offset_ - index->graph->offsetData_;
        size_t other = dimension * (index->half ? sizeof(float) : sizeof(uint16_t));
        if (saved == other && half_supported()) {
            convert_vectors(*index->graph, dimension, index->half);
        } else if (saved != index->element_size()) {
            throw std::runtime_error("saved index has another dimension or precision");
        }
        return index;
    } catch (const std::exception &exception) {
        if (error && error_length > 0) {
            std::strncpy(error, exception.what(), error_length - 1);
            error[error_length - 1] = 0;
        }
        delete index;
        return nullptr;
    }
}

int chnsw_save(chnsw_index *index, const char *path) {
    try {
        // Shared: saving only reads the graph, so searches go on; adds and deletes wait.
        std::shared_lock guard(index->lock);
        index->graph->saveIndex(std::string(path));
        return 0;
    } catch (...) {
        return -1;
    }
}

void chnsw_free(chnsw_index *index) { delete index; }

int chnsw_add(chnsw_index *index, const float *vector, size_t label) {
    try {
        // A label the graph has already is updated in its slot (hnswlib's updatePoint); the index
        // gives replacements fresh labels, so that happens only when a reconcile found a stale copy.
        // Exclusive: hnswlib's addPoint publishes a new element (the entry point among them)
        // before its links are complete, and a search running beside it was seen to crash there.
        // Adds come from the background merge, so searches wait only while one runs.
        std::unique_lock guard(index->lock);
        if (index->graph->cur_element_count >= index->graph->max_elements_) {
            index->graph->resizeIndex(index->graph->max_elements_ * 2);
        }
        std::vector<uint16_t> buffer;
        index->graph->addPoint(index->stored(vector, buffer), label);
        return 0;
    } catch (...) {
        return -1;
    }
}

int chnsw_mark_deleted(chnsw_index *index, size_t label) {
    try {
        std::unique_lock guard(index->lock);
        index->graph->markDelete(label);
        return 0;
    } catch (...) {
        return -1;
    }
}

void chnsw_set_ef(chnsw_index *index, size_t ef) {
    std::unique_lock guard(index->lock);
    index->graph->setEf(ef);
}

void chnsw_set_ef_construction(chnsw_index *index, size_t ef_construction) {
    std::unique_lock guard(index->lock);
    // As hnswlib's constructor does: the build breadth is never below the degree.
    index->graph->ef_construction_ = std::max(ef_construction, index->graph->M_);
}

size_t chnsw_search(chnsw_index *index, const float *query, size_t k, size_t *labels, float *distances) {
    try {
        std::vector<uint16_t> buffer;
        auto stored = index->stored(query, buffer);
        std::shared_lock guard(index->lock);
        auto found = index->graph->searchKnn(stored, k);
        size_t count = found.size();
        // The queue pops farthest first; fill from the back so the nearest comes first.
        for (size_t position = count; position > 0; --position) {
            labels[position - 1] = found.top().second;
            distances[position - 1] = found.top().first;
            found.pop();
        }
        return count;
    } catch (...) {
        return 0;
    }
}

size_t chnsw_count(chnsw_index *index) {
    std::shared_lock guard(index->lock);
    return index->graph->cur_element_count;
}

int chnsw_vector(chnsw_index *index, size_t label, float *vector) {
    try {
        std::shared_lock guard(index->lock);
        if (index->half) {
            auto data = index->graph->getDataByLabel<uint16_t>(label);
            for (size_t i = 0; i < data.size(); ++i) vector[i] = from_half(data[i]);
        } else {
            auto data = index->graph->getDataByLabel<float>(label);
            std::memcpy(vector, data.data(), data.size() * sizeof(float));
        }
        return 0;
    } catch (...) {
        return -1;
    }
}

long long chnsw_max_label(chnsw_index *index) {
    std::shared_lock guard(index->lock);
    long long highest = -1;
    for (auto &entry : index->graph->label_lookup_) highest = std::max(highest, static_cast<long long>(entry.first));
    return highest;
}

size_t chnsw_labels(chnsw_index *index, size_t *labels, size_t capacity) {
    std::unique_lock guard(index->lock);
    size_t written = 0;
    for (auto &entry : index->graph->label_lookup_) {
        if (written >= capacity) break;
        if (!index->graph->isMarkedDeleted(entry.second)) labels[written++] = entry.first;
    }
    return written;
}

}
