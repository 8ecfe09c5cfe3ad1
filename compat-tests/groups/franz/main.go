// Command franz-group-member is a consumer-group member on franz-go (kgo) for the membership
// scenarios; it speaks the line protocol of ../member.py: one JSON object per line on stdout
// for assignments, revocations, losses, records and successful commits. It commits what it
// processed after every poll and, on revocation, before it gives partitions up. SIGTERM
// closes the client (leaving the group).
//
//	franz-group-member -bootstrap B -group G -topic T -assignor A -name N
//
// A is range, roundrobin, sticky or cooperative-sticky.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var outMu sync.Mutex

func emit(ev string, fields map[string]any) {
	m := map[string]any{"t": time.Now().UnixMicro(), "ev": ev}
	for k, v := range fields {
		m[k] = v
	}
	line, _ := json.Marshal(m)
	outMu.Lock()
	os.Stdout.Write(append(line, '\n'))
	outMu.Unlock()
}

// progress holds offsets processed and not yet committed, per owned partition; an entry is
// dropped when its partition is given up so that a stale position is never committed.
type progress struct {
	mu    sync.Mutex
	next  map[int32]int64
	dirty map[int32]bool
}

func (p *progress) take(parts []int32) map[int32]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[int32]int64{}
	for _, q := range parts {
		if p.dirty[q] {
			out[q] = p.next[q]
		}
	}
	return out
}

func (p *progress) settle(offs map[int32]int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, o := range offs {
		if p.next[q] == o {
			delete(p.dirty, q)
		}
	}
}

func (p *progress) drop(parts []int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range parts {
		delete(p.next, q)
		delete(p.dirty, q)
	}
}

func main() {
	bootstrap := flag.String("bootstrap", "", "host:port")
	group := flag.String("group", "", "group id")
	topic := flag.String("topic", "", "topic")
	assignor := flag.String("assignor", "range", "range|roundrobin|sticky|cooperative-sticky")
	name := flag.String("name", "franz", "client id")
	flag.Parse()

	balancers := map[string]kgo.GroupBalancer{
		"range": kgo.RangeBalancer(), "roundrobin": kgo.RoundRobinBalancer(),
		"sticky": kgo.StickyBalancer(), "cooperative-sticky": kgo.CooperativeStickyBalancer(),
	}
	balancer, ok := balancers[*assignor]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown assignor %q\n", *assignor)
		os.Exit(2)
	}
	prog := &progress{next: map[int32]int64{}, dirty: map[int32]bool{}}

	commit := func(ctx context.Context, cl *kgo.Client, offs map[int32]int64) {
		if len(offs) == 0 {
			return
		}
		req := map[string]map[int32]kgo.EpochOffset{*topic: {}}
		for q, o := range offs {
			req[*topic][q] = kgo.EpochOffset{Epoch: -1, Offset: o}
		}
		done := make(chan struct{})
		cl.CommitOffsetsSync(ctx, req, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			defer close(done)
			if err == nil {
				for _, t := range resp.Topics {
					for _, p := range t.Partitions {
						if p.ErrorCode != 0 {
							err = fmt.Errorf("partition %d: error code %d", p.Partition, p.ErrorCode)
						}
					}
				}
			}
			if err != nil {
				emit("commit_failed", map[string]any{"error": err.Error()})
				return
			}
			prog.settle(offs)
			strs := map[string]int64{}
			for q, o := range offs {
				strs[fmt.Sprint(q)] = o
			}
			emit("commit", map[string]any{"offs": strs})
		})
		<-done
	}

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(*bootstrap),
		kgo.ClientID(*name),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.Balancers(balancer),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(6*time.Second),
		kgo.HeartbeatInterval(time.Second),
		kgo.RebalanceTimeout(20*time.Second),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			emit("assigned", map[string]any{"parts": nonNil(m[*topic])})
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
			parts := nonNil(m[*topic])
			commit(ctx, cl, prog.take(parts))
			prog.drop(parts)
			emit("revoked", map[string]any{"parts": parts})
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			parts := nonNil(m[*topic])
			prog.drop(parts)
			emit("lost", map[string]any{"parts": parts})
		}),
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		os.Exit(1)
	}

	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sigs; cancel() }()

	for ctx.Err() == nil {
		pollCtx, pollCancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fetches := cl.PollRecords(pollCtx, 200)
		pollCancel()
		var recs [][2]int64
		fetches.EachRecord(func(r *kgo.Record) {
			recs = append(recs, [2]int64{int64(r.Partition), r.Offset})
			prog.mu.Lock()
			prog.next[r.Partition] = r.Offset + 1
			prog.dirty[r.Partition] = true
			prog.mu.Unlock()
		})
		if len(recs) > 0 {
			emit("records", map[string]any{"recs": recs})
		}
		// Every partition with uncommitted progress, so a failed commit is retried next round.
		var parts []int32
		prog.mu.Lock()
		for q := range prog.dirty {
			parts = append(parts, q)
		}
		prog.mu.Unlock()
		commit(context.Background(), cl, prog.take(parts))
		cl.AllowRebalance()
	}
	cl.Close()
	emit("closed", nil)
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}
