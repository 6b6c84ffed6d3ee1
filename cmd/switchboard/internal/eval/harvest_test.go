package eval_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/eval"
)

func TestHarvestLabelsByWhereTheCallFinallyWent(t *testing.T) {
	log := strings.Join([]string{
		`{"time":"t","level":"INFO","msg":"turn","call":"c1","state":"transferred","dept":"sales","turns":2}`,
		`{"msg":"call","call":"c1","dept":"sales","why":"local","turns":["hi","I want to buy a sofa"]}`,
		`{"msg":"call","call":"c2","dept":"billing","why":"keypad","turns":["um","press"]}`,
		`{"msg":"call","call":"c3","dept":"sales","why":"model","final_dept":"support","turns":["my order is late"]}`,
		`{"msg":"call","call":"c4","dept":"fallback","why":"unsure","turns":["what's the weather"]}`,
		`{"msg":"call","call":"c5","state":"ended","turns":["hello"]}`,
		`{"msg":"call","call":"c6","dept":"sales","why":"local","turns":2}`,
		`not json at all`,
		`{"msg":"call summary","call_id":"c7","route":"billing","reason":"keypad","transcripts":["my bill"]}`,
		// After hours: the caller asked for the closed department, whoever took the call.
		`{"msg":"call summary","call":"c8","route":"support","closed":"sales","why":"local","turns":["twenty more licenses"]}`,
		`{"msg":"call summary","call":"c9","state":"ended","route":"","closed":"billing","why":"model","turns":["my invoice"]}`,
		// A caller who called within 24 h: offered for review.
		`{"msg":"call summary","call":"c10","state":"transferred","route":"support","repeat":true,"why":"local","turns":["still broken"]}`,
	}, "\n")
	convs, st, err := eval.Harvest(strings.NewReader(log), "harvest:test.log", "fallback")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range convs {
		got = append(got, c.ID+"="+c.Department+"/"+c.OriginalLabel)
	}
	want := "c1=sales/router:local c10=support/router:local; repeat call within 24 h c2=billing/keypad c3=support/retransfer c4=unknown/router:unsure c7=billing/keypad c8=sales/router:local c9=billing/router:model"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
	if st.NoTranscripts != 1 || st.Unrouted != 1 || st.Calls != 8 {
		t.Errorf("stats %+v, want 1 without transcripts, 1 unrouted, 8 calls", st)
	}
	var b bytes.Buffer
	if err := eval.WriteJSONL(&b, convs); err != nil {
		t.Fatal(err)
	}
	back, err := eval.Load(&b)
	if err != nil || len(back) != 8 || back[0].Turns[1] != "I want to buy a sofa" {
		t.Errorf("the harvested file does not load back as a corpus: %v %+v", err, back)
	}
}
