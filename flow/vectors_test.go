package flow

import "testing"

func TestWordVectorsKnowMeaning(t *testing.T) {
	if n := len(vectors.index); n < 30000 {
		t.Errorf("%d words, want the table's 34,000", n)
	}
	cos := func(a, b string) float32 {
		i, j := vectors.lookup(a), vectors.lookup(b)
		if i < 0 || j < 0 {
			t.Fatalf("no vector for %q or %q", a, b)
		}
		u, v := vectors.unit(i), vectors.unit(j)
		return u.dot(&v)
	}
	for _, c := range [][3]string{ // a is nearer b than c
		{"mattress", "pillow", "invoice"},
		{"mattresses", "bed", "refund"}, // by its singular's vector
		{"mortgage", "loan", "sofa"},
		{"stolen", "theft", "purchase"},
	} {
		if near, far := cos(c[0], c[1]), cos(c[0], c[2]); near <= far {
			t.Errorf("cos(%s, %s) = %.2f, not above cos(%s, %s) = %.2f", c[0], c[1], near, c[0], c[2], far)
		}
	}
	if vectors.lookup("xyzzyplugh") >= 0 {
		t.Error("a non-word has a vector")
	}
	if vectors.lookup("the") != 0 {
		t.Error(`"the" is not the most frequent word: the table is not in frequency order`)
	}
}

func TestParseVectorsRefusesOtherFiles(t *testing.T) {
	for _, s := range []string{"", "SBVEC1\n", "SBVEC1\n\x01\x00\x00\x00\x64\x03the", "SBVEC1\n\x01\x00\x00\x00\x02\x03the\x01\x02", vectorsData[:len(vectorsData)-1]} {
		if _, err := parseVectors(s); err == nil {
			t.Errorf("parseVectors(%.20q...) took it", s)
		}
	}
}

func TestSuspectNeedsOddnessBeforeMoney(t *testing.T) {
	for text, want := range map[string]bool{
		"strange transactions": true, "weird card payments": true, "mysterious purchases": true,
		"a different payment method": false, "my new transactions": false, "the transfer was strange": false,
		"strange noises": false, "an interesting deal": false,
	} {
		if got := suspect(tokens(text)); got != want {
			t.Errorf("suspect(%q) = %v, want %v", text, got, want)
		}
	}
}

// BenchmarkParseVectors is what every process pays once at start.
func BenchmarkParseVectors(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseVectors(vectorsData); err != nil {
			b.Fatal(err)
		}
	}
}
