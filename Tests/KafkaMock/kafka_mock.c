/* A Kafka "broker" for tests: librdkafka's own mock cluster, listening on loopback, shared by every
 * process that connects to it (no Apache Kafka broker can run on the test machines).
 * Usage: kafka_mock BOOTSTRAP_FILE [BROKERS] [PARTITIONS] [TOPIC...]
 * Writes the bootstrap servers to BOOTSTRAP_FILE once listening, then runs until SIGTERM/SIGINT.
 * Topics named on the command line are created with PARTITIONS partitions; others are created
 * on first use (auto-creation), as a broker with auto.create.topics.enable would.
 * SIGUSR1 takes every broker down (connections closed and refused, as a stopped broker's), SIGUSR2
 * brings them back on the same port with their logs intact: a broker restart, which stopping this
 * process could not model (its logs live in memory and it would come back on another port). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t running = 1;
static volatile sig_atomic_t wanted_up = 1;
static void stop(int sig) { (void)sig; running = 0; }
static void down(int sig) { (void)sig; wanted_up = 0; }
static void up(int sig) { (void)sig; wanted_up = 1; }

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BOOTSTRAP_FILE [BROKERS] [PARTITIONS] [TOPIC...]\n", argv[0]);
        return 2;
    }
    int brokers = argc > 2 ? atoi(argv[2]) : 1;
    int partitions = argc > 3 ? atoi(argv[3]) : 4;
    char error[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!handle) { fprintf(stderr, "rd_kafka_new: %s\n", error); return 1; }
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(handle, brokers);
    if (!cluster) { fprintf(stderr, "cannot create the mock cluster\n"); return 1; }
    for (int i = 4; i < argc; i++) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, argv[i], partitions, brokers);
        if (err) { fprintf(stderr, "topic %s: %s\n", argv[i], rd_kafka_err2str(err)); return 1; }
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", argv[1]);
    FILE *file = fopen(temporary, "w");
    if (!file || fprintf(file, "%s\n", bootstraps) < 0 || fclose(file) != 0 || rename(temporary, argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    printf("kafka mock cluster: %s\n", bootstraps);
    fflush(stdout);
    signal(SIGTERM, stop);
    signal(SIGINT, stop);
    signal(SIGUSR1, down);
    signal(SIGUSR2, up);
    int is_up = 1;
    while (running) {
        pause();
        if (wanted_up != is_up) {
            is_up = wanted_up;
            if (is_up) rd_kafka_mock_broker_set_up(cluster, -1);
            else rd_kafka_mock_broker_set_down(cluster, -1);
            printf("kafka mock cluster: brokers %s\n", is_up ? "up" : "down");
            fflush(stdout);
        }
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(handle);
    return 0;
}
