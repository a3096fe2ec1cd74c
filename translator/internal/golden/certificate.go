package golden

// GeneratedCertificate is the stand-in for the default certificate rukou
// serve generates at start, with the same subject and name: a fixed,
// self-signed test pair (never served outside tests), so that golden
// files do not change from run to run.
func GeneratedCertificate() (chain, key []byte) {
	return []byte(generatedChain), []byte(generatedKey)
}

const generatedChain = `-----BEGIN CERTIFICATE-----
MIICHTCCAcSgAwIBAgIUUhBxqinEobTErh8DlKEbi7eOYoMwCgYIKoZIzj0EAwIw
SzEQMA4GA1UECgwHQWNtZSBDbzE3MDUGA1UEAwwuS3ViZXJuZXRlcyBJbmdyZXNz
IENvbnRyb2xsZXIgRmFrZSBDZXJ0aWZpY2F0ZTAgFw0yNjEyMDEwNjM2NDhaGA8y
MTI2MTEwNzA2MzY0OFowSzEQMA4GA1UECgwHQWNtZSBDbzE3MDUGA1UEAwwuS3Vi
ZXJuZXRlcyBJbmdyZXNzIENvbnRyb2xsZXIgRmFrZSBDZXJ0aWZpY2F0ZTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABHy1UeEloYh8xBNeTN2JxMLXrwJmvbxUc0wW
0Y/6kLuWrRqU6aEXq6U4/+nkTcWssMurVjSZvUgXJtkSeqC96uSjgYMwgYAwHQYD
VR0OBBYEFG6wjvA85jaRXP8f8i2Lap9ey8GkMB8GA1UdIwQYMBaAFG6wjvA85jaR
XP8f8i2Lap9ey8GkMA8GA1UdEwEB/wQFMAMBAf8wGAYDVR0RBBEwD4INaW5ncmVz
cy5sb2NhbDATBgNVHSUEDDAKBggrBgEFBQcDATAKBggqhkjOPQQDAgNHADBEAiBi
pOxcQuytDb9b2amE34rs18GwfsGsujWtbVZ3X3rszQIgHf/6aggUmKKZIBbPyI8e
CTArBQ/yf5Ey/WJqL0kcPJg=
-----END CERTIFICATE-----
`

const generatedKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgk6Jcm1CQAIJKrAsh
uxwqSch19mK+fAiv6LDa3yjTqrOhRANCAAR8tVHhJaGIfMQTXkzdicTC168CZr28
VHNMFtGP+pC7lq0alOmhF6ulOP/p5E3FrLDLq1Y0mb1IFybZEnqgverk
-----END PRIVATE KEY-----
`
