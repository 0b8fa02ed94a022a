package push

import (
	"context"
	"testing"

	"github.com/plop-chat/plop/push/pushtest"
)

func BenchmarkEncrypt(b *testing.B) {
	ua, auth := browserKeys(b)
	payload, _ := webPayload(testNotification())
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := encrypt(payload, ua.PublicKey().Bytes(), auth); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWebPushSend measures one whole delivery to a push service on loopback over TLS:
// payload, encryption, VAPID signature, request and the service's decryption.
func BenchmarkWebPushSend(b *testing.B) {
	p := newFakePushService(b)
	w, _ := mustWebPush(b, p)
	d, n := p.device(), testNotification()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.Send(context.Background(), d, n); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkFCMSend measures one delivery to the FCM fake on loopback, the access token cached.
func BenchmarkFCMSend(b *testing.B) {
	f := pushtest.NewFCM(b)
	s := mustFCM(b, f)
	n := testNotification()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Send(context.Background(), fcmDevice, n); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
