package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/internal/servertest"
)

// The end-of-run check reads whole histories: a room longer than one page must come back
// complete and in order, whether read from the start or from a seq.
func TestMessagesAfterReadsHistoriesLongerThanAPage(t *testing.T) {
	node := servertest.Start(t)
	ana, bo := node.SignupVerified(t, "Ana"), node.SignupVerified(t, "Bo")
	node.MakeFriends(t, ana, bo)
	ctx := context.Background()
	api := client.New(node.URL).WithToken(ana.AccessToken)
	room, err := api.CreateDirectRoom(ctx, bo.ID)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*plop.MaxPageSize + 17
	for i := 1; i <= n; i++ {
		if _, err := api.SendMessage(ctx, room.ID, client.NewMessage{Body: fmt.Sprintf("m%d", i), ClientMsgID: fmt.Sprintf("c%d", i)}); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	for _, after := range []int64{0, 1, plop.MaxPageSize, n - 3, n} {
		msgs, err := messagesAfter(ctx, api, room.ID, after)
		if err != nil {
			t.Fatalf("after %d: %v", after, err)
		}
		if want := n - int(after); len(msgs) != want {
			t.Fatalf("after %d: %d messages, want %d", after, len(msgs), want)
		}
		for i, m := range msgs {
			if want := after + int64(i) + 1; m.Seq != want || m.Body != fmt.Sprintf("m%d", want) {
				t.Fatalf("after %d: message %d is seq %d %q, want seq %d", after, i, m.Seq, m.Body, want)
			}
		}
	}
}
