package provision

import "strings"

// countryOf returns the ISO 3166 alpha-2 code (lower case, as VoIPBin's
// destination_whitelist has them) of an E.164 number, or "" when the calling
// code is not in the table. North American numbers share +1: Canada is told
// apart by its area codes; the other +1 countries (the Caribbean) read as
// "us" and are best checked by hand.
func countryOf(number string) string {
	digits := strings.TrimPrefix(number, "+")
	if strings.HasPrefix(digits, "1") {
		if len(digits) >= 4 && canadaAreaCodes[digits[1:4]] {
			return "ca"
		}
		return "us"
	}
	for n := 4; n >= 1; n-- { // the longest calling code wins: +1 is not +1242
		if len(digits) >= n {
			if c, ok := callingCodes[digits[:n]]; ok {
				return c
			}
		}
	}
	return ""
}

var canadaAreaCodes = setOf("204 226 236 249 250 263 289 306 343 354 365 367 368 382 387 403 416 418 428 431 437 438 450 468 474 506 514 519 548 579 581 584 587 604 613 639 647 672 683 705 709 742 753 778 780 782 807 819 825 867 873 879 902 905")

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

// callingCodes maps country calling codes (without +) to ISO 3166 alpha-2.
// Where several countries share a code the largest is named.
var callingCodes = map[string]string{
	"7": "ru", "20": "eg", "27": "za", "30": "gr", "31": "nl", "32": "be", "33": "fr", "34": "es", "36": "hu",
	"39": "it", "40": "ro", "41": "ch", "43": "at", "44": "gb", "45": "dk", "46": "se", "47": "no", "48": "pl",
	"49": "de", "51": "pe", "52": "mx", "53": "cu", "54": "ar", "55": "br", "56": "cl", "57": "co", "58": "ve",
	"60": "my", "61": "au", "62": "id", "63": "ph", "64": "nz", "65": "sg", "66": "th", "81": "jp", "82": "kr",
	"84": "vn", "86": "cn", "90": "tr", "91": "in", "92": "pk", "93": "af", "94": "lk", "95": "mm", "98": "ir",
	"211": "ss", "212": "ma", "213": "dz", "216": "tn", "218": "ly", "220": "gm", "221": "sn", "222": "mr",
	"223": "ml", "224": "gn", "225": "ci", "226": "bf", "227": "ne", "228": "tg", "229": "bj", "230": "mu",
	"231": "lr", "232": "sl", "233": "gh", "234": "ng", "235": "td", "236": "cf", "237": "cm", "238": "cv",
	"239": "st", "240": "gq", "241": "ga", "242": "cg", "243": "cd", "244": "ao", "245": "gw", "248": "sc",
	"249": "sd", "250": "rw", "251": "et", "252": "so", "253": "dj", "254": "ke", "255": "tz", "256": "ug",
	"257": "bi", "258": "mz", "260": "zm", "261": "mg", "262": "re", "263": "zw", "264": "na", "265": "mw",
	"266": "ls", "267": "bw", "268": "sz", "269": "km", "290": "sh", "291": "er", "297": "aw", "298": "fo",
	"299": "gl", "350": "gi", "351": "pt", "352": "lu", "353": "ie", "354": "is", "355": "al", "356": "mt",
	"357": "cy", "358": "fi", "359": "bg", "370": "lt", "371": "lv", "372": "ee", "373": "md", "374": "am",
	"375": "by", "376": "ad", "377": "mc", "378": "sm", "380": "ua", "381": "rs", "382": "me", "383": "xk",
	"385": "hr", "386": "si", "387": "ba", "389": "mk", "420": "cz", "421": "sk", "423": "li", "500": "fk",
	"501": "bz", "502": "gt", "503": "sv", "504": "hn", "505": "ni", "506": "cr", "507": "pa", "509": "ht",
	"590": "gp", "591": "bo", "592": "gy", "593": "ec", "595": "py", "597": "sr", "598": "uy", "670": "tl",
	"673": "bn", "675": "pg", "676": "to", "677": "sb", "678": "vu", "679": "fj", "685": "ws", "852": "hk",
	"853": "mo", "855": "kh", "856": "la", "880": "bd", "886": "tw", "960": "mv", "961": "lb", "962": "jo",
	"963": "sy", "964": "iq", "965": "kw", "966": "sa", "967": "ye", "968": "om", "970": "ps", "971": "ae",
	"972": "il", "973": "bh", "974": "qa", "975": "bt", "976": "mn", "977": "np", "992": "tj", "993": "tm",
	"994": "az", "995": "ge", "996": "kg", "998": "uz",
}
