#include "chnsw.h"

#include <fcntl.h>
#include <hnswlib/hnswlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
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


struct Descriptor {
    int fd;
    ~Descriptor() {
        if (fd >= 0) close(fd);
    }
};

void read_fully(int fd, char *into, size_t length, off_t at) {
    while (length > 0) {
        ssize_t count = pread(fd, into, length, at);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) throw std::runtime_error("cannot read the saved graph");
        into += count;
        length -= size_t(count);
        at += count;
    }
}

template <typename T> T take(const char *&cursor) {
    T value;
    std::memcpy(&value, cursor, sizeof value);
    cursor += sizeof value;
    return value;
}

struct Header {
    size_t offset_level0, max_elements, count, element_size, label_offset, data_offset;
    int max_level;
    hnswlib::tableint entry_point;
    size_t max_m, max_m0, m;
    double mult;
    size_t ef_construction;

    static constexpr size_t size = 6 * sizeof(size_t) + sizeof(int) + sizeof(hnswlib::tableint) + 3 * sizeof(size_t) + sizeof(double) + sizeof(size_t);

    explicit Header(const char *cursor)
        : offset_level0(take<size_t>(cursor)), max_elements(take<size_t>(cursor)), count(take<size_t>(cursor)),
          element_size(take<size_t>(cursor)), label_offset(take<size_t>(cursor)), data_offset(take<size_t>(cursor)),
          max_level(take<int>(cursor)), entry_point(take<hnswlib::tableint>(cursor)), max_m(take<size_t>(cursor)),
          max_m0(take<size_t>(cursor)), m(take<size_t>(cursor)), mult(take<double>(cursor)), ef_construction(take<size_t>(cursor)) {}
};

// Reads a graph in the layout hnswlib 0.6's saveIndex writes, with room for `capacity(count)`
// elements (at least the file's `count`). hnswlib's own loadIndex checks the file by asking its stream where it is
// twice per element, an lseek(2) each: two million system calls, about a second of a start, at a
// million vectors. This reads the file in two reads, checks the same things in memory and throws
// std::runtime_error for a file that is not a whole graph.
std::unique_ptr<hnswlib::HierarchicalNSW<float>> load_graph(const char *path, hnswlib::SpaceInterface<float> *space,
                                                            const std::function<size_t(size_t)> &capacity) {
    Descriptor file{open(path, O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) throw std::runtime_error("Cannot open file");
    struct stat status;
    if (fstat(file.fd, &status) != 0) throw std::runtime_error("cannot read the saved graph");
    const size_t file_size = size_t(status.st_size);
    if (file_size < Header::size) throw std::runtime_error("Index seems to be corrupted or unsupported");
    char header_bytes[Header::size];
    read_fully(file.fd, header_bytes, Header::size, 0);
    const Header header(header_bytes);
    // The same checks as hnswlib's: the elements, then each upper-level link list, end exactly at
    // the end of the file.
    if (header.element_size == 0 || header.count > (file_size - Header::size) / header.element_size)
        throw std::runtime_error("Index seems to be corrupted or unsupported");
    const size_t level0_bytes = header.count * header.element_size;
    std::vector<char> upper(file_size - Header::size - level0_bytes);
    read_fully(file.fd, upper.data(), upper.size(), off_t(Header::size + level0_bytes));
    {
        size_t at = 0;
        for (size_t i = 0; i < header.count; i++) {
            if (at + sizeof(unsigned int) > upper.size()) throw std::runtime_error("Index seems to be corrupted or unsupported");
            unsigned int size;
            std::memcpy(&size, upper.data() + at, sizeof size);
            at += sizeof size + size;
        }
        if (at != upper.size()) throw std::runtime_error("Index seems to be corrupted or unsupported");
    }

    // From here on, what loadIndex does, member for member (the empty constructor sets nothing).
    auto graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(space);
    graph->cur_element_count = 0;  // the destructor walks this many elements
    graph->data_level0_memory_ = nullptr;
    graph->linkLists_ = nullptr;
    graph->visited_list_pool_ = nullptr;
    graph->num_deleted_ = 0;
    graph->offsetLevel0_ = header.offset_level0;
    graph->max_elements_ = std::max(capacity(header.count), header.count);
    graph->size_data_per_element_ = header.element_size;
    graph->label_offset_ = header.label_offset;
    graph->offsetData_ = header.data_offset;
    graph->maxlevel_ = header.max_level;
    graph->enterpoint_node_ = header.entry_point;
    graph->maxM_ = header.max_m;
    graph->maxM0_ = header.max_m0;
    graph->M_ = header.m;
    graph->mult_ = header.mult;
    graph->ef_construction_ = header.ef_construction;
    graph->data_size_ = space->get_data_size();
    graph->fstdistfunc_ = space->get_dist_func();
    graph->dist_func_param_ = space->get_dist_func_param();
    graph->size_links_per_element_ = header.max_m * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
    graph->size_links_level0_ = header.max_m0 * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
    graph->revSize_ = 1.0 / header.mult;
    graph->ef_ = 10;

    const size_t slots = graph->max_elements_;
    graph->data_level0_memory_ = static_cast<char *>(std::malloc(slots * header.element_size));
    if (graph->data_level0_memory_ == nullptr) throw std::runtime_error("Not enough memory: loadIndex failed to allocate level0");
    read_fully(file.fd, graph->data_level0_memory_, level0_bytes, off_t(Header::size));
    std::vector<std::mutex>(slots).swap(graph->link_list_locks_);
    std::vector<std::mutex>(hnswlib::HierarchicalNSW<float>::max_update_element_locks).swap(graph->link_list_update_locks_);
    graph->visited_list_pool_ = new hnswlib::VisitedListPool(1, int(slots));
    graph->linkLists_ = static_cast<char **>(std::malloc(sizeof(void *) * slots));
    if (graph->linkLists_ == nullptr) throw std::runtime_error("Not enough memory: loadIndex failed to allocate linklists");
    graph->element_levels_ = std::vector<int>(slots);
    graph->label_lookup_.reserve(header.count);

    size_t at = 0;
    for (size_t i = 0; i < header.count; i++) {
        graph->label_lookup_[graph->getExternalLabel(hnswlib::tableint(i))] = hnswlib::tableint(i);
        unsigned int size;
        std::memcpy(&size, upper.data() + at, sizeof size);
        at += sizeof size;
        graph->linkLists_[i] = nullptr;
        graph->element_levels_[i] = 0;
        if (size != 0) {
            graph->linkLists_[i] = static_cast<char *>(std::malloc(size));
            if (graph->linkLists_[i] == nullptr) throw std::runtime_error("Not enough memory: loadIndex failed to allocate linklist");
            std::memcpy(graph->linkLists_[i], upper.data() + at, size);
            graph->element_levels_[i] = int(size / graph->size_links_per_element_);
            at += size;
        }
        graph->cur_element_count = i + 1;
        if (graph->isMarkedDeleted(hnswlib::tableint(i))) graph->num_deleted_ += 1;
    }
    return graph;
}

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

/// How alike an element is to its closest neighbour on the bottom layer (-2 without one).
float closest_link_similarity(hnswlib::HierarchicalNSW<float> &graph, hnswlib::tableint element) {
    hnswlib::linklistsizeint *list = graph.get_linklist0(element);
    size_t size = graph.getListCount(list);
    auto *neighbours = reinterpret_cast<hnswlib::tableint *>(list + 1);
    const char *data = graph.getDataByInternalId(element);
    float best = -2;
    for (size_t i = 0; i < size; i++) {
        if (neighbours[i] >= graph.cur_element_count || neighbours[i] == element) continue;
        best = std::max(best, 1.0f - graph.fstdistfunc_(data, graph.getDataByInternalId(neighbours[i]), graph.dist_func_param_));
    }
    return best;
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

void chnsw_round_to_half(float *values, size_t count) {
    for (size_t i = 0; i < count; ++i) values[i] = from_half(to_half(values[i]));
}

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
        index->graph = load_graph(path, index->space.get(), [](size_t count) { return count + count / 4 + 1024; });
        // The element size comes from the space, not the file: compare, and convert a file
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

size_t chnsw_link_similarities(chnsw_index *index, const size_t *only, size_t only_count, size_t *labels, float *similarities, size_t capacity) {
    try {
        std::shared_lock guard(index->lock);
        auto &graph = *index->graph;
        size_t written = 0;
        auto visit = [&](hnswlib::tableint element) {
            if (written >= capacity || graph.isMarkedDeleted(element)) return;
            labels[written] = graph.getExternalLabel(element);
            similarities[written++] = closest_link_similarity(graph, element);
        };
        if (only) {
            for (size_t i = 0; i < only_count; i++) {
                auto found = graph.label_lookup_.find(only[i]);
                if (found != graph.label_lookup_.end()) visit(found->second);
            }
        } else {
            for (hnswlib::tableint element = 0; element < graph.cur_element_count; element++) visit(element);
        }
        return written;
    } catch (...) {
        return 0;
    }
}

void chnsw_similarities(chnsw_index *index, const float *query, const size_t *labels, size_t count, float *similarities) {
    std::vector<uint16_t> buffer;
    auto stored = index->stored(query, buffer);
    std::shared_lock guard(index->lock);
    auto &graph = *index->graph;
    for (size_t i = 0; i < count; i++) {
        auto found = graph.label_lookup_.find(labels[i]);
        bool live = found != graph.label_lookup_.end() && !graph.isMarkedDeleted(found->second);
        similarities[i] = live ? 1.0f - graph.fstdistfunc_(stored, graph.getDataByInternalId(found->second), graph.dist_func_param_) : -2;
    }
}

}
