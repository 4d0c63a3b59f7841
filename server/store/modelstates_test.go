package store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

// SaveModelStates and ModelStates round-trip every saved model byte for
// byte (replacing an earlier save of the same series), and each state
// handed to the callback is that row's own, though the buffer is the
// driver's and valid only during the call.
func TestModelStatesRoundTrip(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, _ string) {
		ctx := context.Background()
		a, b := service(t, st, "alpha"), service(t, st, "beta")
		state := func(seed byte, n int) []byte {
			out := make([]byte, n)
			for i := range out {
				out[i] = seed + byte(i*7)
			}
			return out
		}
		var list []models.ModelState
		for i, svc := range []models.Service{a, b} {
			for j, scope := range []string{models.ScopeGlobal, "US", "KR"} {
				list = append(list, models.ModelState{ServiceID: svc.ID, Scope: scope, LearnedUntil: int64(1000 * (i + j)), State: state(byte(i*3+j), 5700)})
			}
		}
		if err := st.SaveModelStates(ctx, list); err != nil {
			t.Fatal(err)
		}
		list[1].State, list[1].LearnedUntil = state(99, 5700), 5555 // saved again: replaced
		if err := st.SaveModelStates(ctx, list[1:2]); err != nil {
			t.Fatal(err)
		}
		want := map[string]models.ModelState{}
		for _, ms := range list {
			want[fmt.Sprint(ms.ServiceID, ms.Scope)] = ms
		}
		got := map[string]models.ModelState{}
		err := st.ModelStates(ctx, func(ms models.ModelState) error {
			ms.State = bytes.Clone(ms.State) // valid only during the call
			got[fmt.Sprint(ms.ServiceID, ms.Scope)] = ms
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("read %d model states, saved %d", len(got), len(want))
		}
		for k, w := range want {
			g := got[k]
			if g.LearnedUntil != w.LearnedUntil || !bytes.Equal(g.State, w.State) {
				t.Errorf("%s: read learned %d, %d bytes; saved learned %d, %d bytes", k, g.LearnedUntil, len(g.State), w.LearnedUntil, len(w.State))
			}
		}
	})
}
