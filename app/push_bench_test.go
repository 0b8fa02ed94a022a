package app

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkPushFold measures the worker's share of one message to an offline member: claim
// the job, read the message and its members, ask presence, fold it into the pending
// notification and delete the job (in batches of PushConfig.Batch), on SQLite.
func BenchmarkPushFold(b *testing.B) {
	pa := newPushApp(b)
	ana := pa.user(b, "Ana")
	ben := pa.friendOf(b, "Ben", ana)
	pa.device(b, ben, "t")
	r := pa.direct(b, ana, ben)
	pa.events.discard()
	for i := range b.N {
		if _, _, err := pa.SendMessage(context.Background(), ana, r.ID, MessageInput{Body: fmt.Sprint("message ", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	pa.worker.drain(context.Background())
	b.StopTimer()
	if jobs, _, err := pa.worker.Backlog(context.Background()); err != nil || jobs != 0 {
		b.Fatalf("%d jobs left, %v", jobs, err)
	}
	pa.run(testPushConfig.Delay) // the one notification falls due and is sent
	if n := pa.pusher.total(); n != 1 {
		b.Fatalf("%d notifications for %d messages", n, b.N)
	}
}
