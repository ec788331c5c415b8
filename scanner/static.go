package scanner

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// StaticCredentials returns a provider of fixed credentials, for endpoints
// such as the built-in fake AWS (audit demo) that hand them out. The CLI
// uses it so that only this package imports the AWS SDK.
func StaticCredentials(accessKeyID, secretAccessKey string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, "")
}
