#include "chnsw.h"

#include <hnswlib/hnswlib.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

struct chnsw_index {
    int dimension;
    std::unique_ptr<hnswlib::InnerProductSpace> space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
    // Shared: search. Exclusive: add (with resize), delete, save.
    std::shared_mutex lock;
};

extern "C" {

chnsw_index *chnsw_create(int dimension, size_t capacity, size_t m, size_t ef_construction, size_t seed) {
    try {
        auto index = new chnsw_index();
        index->dimension = dimension;
        index->space = std::make_unique<hnswlib::InnerProductSpace>(dimension);
        index->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space.get(), capacity < 16 ? 16 : capacity, m, ef_construction, seed);
        return index;
    } catch (...) {
        return nullptr;
    }
}

chnsw_index *chnsw_load(const char *path, int dimension, char *error, size_t error_length) {
    auto index = new chnsw_index();
    try {
        index->dimension = dimension;
        index->space = std::make_unique<hnswlib::InnerProductSpace>(dimension);
        index->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space.get(), std::string(path));
        if (index->graph->data_size_ != dimension * sizeof(float)) {
            throw std::runtime_error("saved index has another dimension");
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
        index->graph->addPoint(vector, label);
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
        std::shared_lock guard(index->lock);
        auto found = index->graph->searchKnn(query, k);
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
        auto data = index->graph->getDataByLabel<float>(label);
        std::memcpy(vector, data.data(), data.size() * sizeof(float));
        return 0;
    } catch (...) {
        return -1;
    }
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
