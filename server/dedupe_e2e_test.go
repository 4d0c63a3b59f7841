package server_test

import (
	"database/sql"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/handlers"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/hashkey"
	"github.com/outcry/outcry/server/servertest"
)

func counted(t *testing.T, app *servertest.App, addr string) bool {
	t.Helper()
	r := app.Report(t, "chatgpt", addr, map[string]string{"problem": "login"})
	if r.Status != http.StatusAccepted {
		t.Fatalf("report from %s: %d %s", addr, r.Status, r.Body)
	}
	var out struct {
		Counted bool `json:"counted"`
	}
	r.JSON(t, &out)
	return out.Counted
}

// TestRestartWithoutRedisForgetsNobody: without Redis, a restart used to
// forget who reported, so the same address was counted again a second
// later. The counted reports of the last 15 minutes are recalled from the
// database at start.
func TestRestartWithoutRedisForgetsNobody(t *testing.T) {
	env := servertest.Env(t)
	delete(env, "OUTCRY_REDIS_URL")
	clock := servertest.NewClock(servertest.Now())
	now := func(o *server.Options) { o.Now = clock.Now }
	app := servertest.StartEnv(t, env, now)
	app.CreateService(t, "chatgpt", "login")
	if !counted(t, app, "192.0.2.44") {
		t.Fatal("first report not counted")
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	clock.Add(10 * time.Minute)
	app = servertest.StartEnv(t, env, now)
	if counted(t, app, "192.0.2.44") {
		t.Fatal("after a restart the same address was counted again within 15 minutes")
	}
	if counted(t, app, "192.0.2.45") {
		t.Fatal("after a restart a second address of the same /24 was counted within 15 minutes")
	}
	if !counted(t, app, "198.51.100.45") {
		t.Fatal("a new reporter in another network is not counted")
	}
	clock.Add(6 * time.Minute)
	app.Stop()
	app = servertest.StartEnv(t, env, now)
	if !counted(t, app, "192.0.2.44") {
		t.Fatal("16 minutes after its counted report the address is still not counted")
	}
}

// TestHashKeyLeavesTheDatabase: an existing deployment kept the hash secret
// in the settings table. At start it moves to a 0600 key file beside the
// database (today's hashes unchanged) and is erased from the database; the
// file holds only today's key.
func TestHashKeyLeavesTheDatabase(t *testing.T) {
	env := servertest.Env(t)
	delete(env, "OUTCRY_HASH_SECRET")
	app := servertest.StartEnv(t, env)
	app.CreateService(t, "chatgpt", "login")
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	// What an older version left behind: the secret in the database, no file.
	keyFile := env["OUTCRY_DATABASE_URL"] + ".hashkey"
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	const legacy = "an-old-secret-kept-in-the-database"
	db, err := sql.Open("sqlite3", "file:"+env["OUTCRY_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO settings (key, value) VALUES ('reporter_hash_secret', ?)", legacy); err != nil {
		t.Fatal(err)
	}
	db.Close()

	app = servertest.StartEnv(t, env)
	if !counted(t, app, "192.0.2.77") {
		t.Fatal("report not counted")
	}
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM settings WHERE key = 'reporter_hash_secret'"); n != 0 {
		t.Fatal("the hash secret is still in the database")
	}
	raw, err := os.ReadFile(app.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), legacy) {
		t.Fatal("the erased secret's bytes are still in the database file")
	}
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v; want mode 0600", st, err)
	}
	// Today's hashes are what the old secret gave: dedupe goes on across
	// the upgrade.
	want, _ := handlers.NewIdentifier(hashkey.FromSecret([]byte(legacy))).Identify(netip.MustParseAddr("192.0.2.77"), time.Now())
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM reports WHERE reporter_hash = '"+want+"'"); n != 1 {
		t.Fatal("today's reporter hash changed with the move")
	}
}
