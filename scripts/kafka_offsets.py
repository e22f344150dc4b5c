"""A consumer group's committed offsets beside each partition's end, read through the broker
(confluent-kafka's client, librdkafka 2.16): what a test compares to say a consumer finished.

The end is the offset after the partition's last record as fetched, not the high watermark
ListOffsets reports: Tansu 0.6 reports a wrong watermark after multi-record batches (it said 165
where 167 records had been fetched and committed).

    python3 scripts/kafka_offsets.py BOOTSTRAP TOPIC GROUP
prints [{"partition": 0, "committed": 118, "end": 118, "watermark": 118}, ...]
(committed -1001: nothing committed).
"""
import json
import sys

import confluent_kafka


def fetched_end(bootstrap, topic, partition):
    """The offset after the last record a read from the beginning finds (0 for an empty partition)."""
    reader = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "kafka-offsets-reader", "enable.auto.commit": False,
                                       "enable.partition.eof": True})
    try:
        reader.assign([confluent_kafka.TopicPartition(topic, partition, confluent_kafka.OFFSET_BEGINNING)])
        end = 0
        while True:
            message = reader.poll(10)
            if message is None:
                raise SystemExit(f"no answer reading {topic}[{partition}] within 10 s")
            if message.error():
                if message.error().code() == confluent_kafka.KafkaError._PARTITION_EOF:
                    return end
                raise SystemExit(f"reading {topic}[{partition}]: {message.error()}")
            end = message.offset() + 1
    finally:
        reader.close()


def main():
    bootstrap, topic, group = sys.argv[1:4]
    # A client of the group that never joins it: committed() reads the group's offsets, no rebalance.
    client = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = client.list_topics(topic, timeout=10).topics[topic].partitions
        wanted = [confluent_kafka.TopicPartition(topic, number) for number in sorted(partitions)]
        rows = []
        for partition in client.committed(wanted, timeout=10):
            _, watermark = client.get_watermark_offsets(partition, timeout=10, cached=False)
            rows.append({"partition": partition.partition, "committed": partition.offset,
                         "end": fetched_end(bootstrap, topic, partition.partition), "watermark": watermark})
        print(json.dumps(rows))
    finally:
        client.close()


if __name__ == "__main__":
    main()
