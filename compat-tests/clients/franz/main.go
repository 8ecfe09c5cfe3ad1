// Command franz-roundtrip drives franz-go (kgo and kadm) through one admin, produce and consume
// round trip against a broker, and exits non-zero with a reason on the first mismatch.
//
//	franz-roundtrip -brokers 127.0.0.1:PORT -topic NAME [-records N]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const partitions = 3

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "franz-roundtrip: "+format+"\n", args...)
	os.Exit(1)
}

// murmur2 is Kafka's key hash; kgo's default partitioner promises the Java client's mapping for
// keyed records, so the test computes the expected partition independently of kgo.
func murmur2(data []byte) int32 {
	const seed uint32 = 0x9747b28c
	const m uint32 = 0x5bd1e995
	const r = 24
	n := len(data)
	h := seed ^ uint32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n&^3:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

func main() {
	brokers := flag.String("brokers", "", "bootstrap host:port")
	topic := flag.String("topic", "", "topic to create, fill, read and delete")
	records := flag.Int("records", 200, "records to produce")
	flag.Parse()
	if *brokers == "" || *topic == "" {
		fail("-brokers and -topic are required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(*brokers),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.ZstdCompression()),
		kgo.ProducerLinger(5*time.Millisecond),
	)
	if err != nil {
		fail("client: %v", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	created, err := adm.CreateTopics(ctx, partitions, 1, nil, *topic)
	if err == nil {
		err = created.Error()
	}
	if err != nil {
		fail("create topic: %v", err)
	}

	recs := make([]*kgo.Record, *records)
	for i := range recs {
		recs[i] = &kgo.Record{
			Topic:   *topic,
			Key:     []byte(fmt.Sprintf("key-%d", i)),
			Value:   []byte(fmt.Sprintf("franz value %d", i)),
			Headers: []kgo.RecordHeader{{Key: "i", Value: []byte(fmt.Sprint(i))}},
		}
	}
	// Topic metadata can lag creation by a moment; kgo retries unknown-topic errors itself.
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		fail("produce: %v", err)
	}
	perPartition := map[int32]int64{}
	for i, r := range recs {
		want := (murmur2(r.Key) & 0x7fffffff) % partitions
		if r.Partition != want {
			fail("record %d with key %q went to partition %d, murmur2 says %d", i, r.Key, r.Partition, want)
		}
		if r.Offset != perPartition[r.Partition] {
			fail("record %d got offset %d, expected %d", i, r.Offset, perPartition[r.Partition])
		}
		perPartition[r.Partition]++
	}

	ends, err := adm.ListEndOffsets(ctx, *topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		fail("list end offsets: %v", err)
	}
	for p := int32(0); p < partitions; p++ {
		o, ok := ends.Lookup(*topic, p)
		if !ok || o.Offset != perPartition[p] {
			fail("end offset of partition %d is %+v, expected %d", p, o, perPartition[p])
		}
	}

	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(*brokers),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		fail("consumer: %v", err)
	}
	defer consumer.Close()
	seen := map[string]bool{}
	for len(seen) < len(recs) {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			fail("consumed %d of %d records before the deadline", len(seen), len(recs))
		}
		fetches.EachError(func(t string, p int32, err error) { fail("fetch %s/%d: %v", t, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			var i int
			if _, err := fmt.Sscanf(string(r.Key), "key-%d", &i); err != nil || i < 0 || i >= len(recs) {
				fail("unexpected key %q", r.Key)
			}
			want := recs[i]
			if string(r.Value) != string(want.Value) || r.Partition != want.Partition || r.Offset != want.Offset {
				fail("record %d came back as %q at %d/%d", i, r.Value, r.Partition, r.Offset)
			}
			if len(r.Headers) != 1 || r.Headers[0].Key != "i" || string(r.Headers[0].Value) != fmt.Sprint(i) {
				fail("record %d came back with headers %v", i, r.Headers)
			}
			if seen[string(r.Key)] {
				fail("record %d delivered twice", i)
			}
			seen[string(r.Key)] = true
		})
	}

	deleted, err := adm.DeleteTopics(ctx, *topic)
	if err == nil {
		err = deleted.Error()
	}
	if err != nil {
		fail("delete topic: %v", err)
	}
	fmt.Printf("ok: %d records over %d partitions\n", len(recs), partitions)
}
