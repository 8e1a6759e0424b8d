package aws

import (
	"context"
	"os"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/perch-dev/perch/internal/motoserver"
)

// One moto per test binary: it takes a second or two to start, and each
// test creates uniquely named resources, so sharing is safe.
var (
	sharedMoto    *motoserver.Server
	sharedMotoErr error
)

func TestMain(m *testing.M) {
	sharedMoto, sharedMotoErr = motoserver.Launch(context.Background())
	code := m.Run()
	if sharedMoto != nil {
		sharedMoto.Stop()
	}
	os.Exit(code)
}

// motoConfig is an SDK config aimed at the shared moto, or a skip.
func motoConfig(t *testing.T) awssdk.Config {
	t.Helper()
	if sharedMotoErr != nil {
		motoserver.SkipOrFail(t, sharedMotoErr)
	}
	return testConfig(t, sharedMoto.URL)
}

// testConfig goes through LoadConfig, like the CLI, isolated from the
// developer's own AWS files and environment.
func testConfig(t testing.TB, endpoint string) awssdk.Config {
	t.Helper()
	isolateAWSEnv(t)
	cfg, err := LoadConfig(t.Context(), ConfigOptions{
		Region:      "us-east-1",
		EndpointURL: endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func isolateAWSEnv(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for _, kv := range [][2]string{
		{"AWS_CONFIG_FILE", dir + "/config"},
		{"AWS_SHARED_CREDENTIALS_FILE", dir + "/credentials"},
		{"AWS_EC2_METADATA_DISABLED", "true"},
	} {
		t.Setenv(kv[0], kv[1])
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "AWS_ENDPOINT_URL_STS",
		"AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}
