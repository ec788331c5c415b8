// Package deploy holds the deployment kit and its tests: the CloudFormation
// templates for the member-account scanning role (member-role.yaml, deployed
// as a StackSet) and the scheduled Fargate scanner (scanner.yaml), the
// container image (Containerfile, built by make image) and the GitHub Actions
// workflow (github/audit.yml). The package has no code of its own; its tests
// parse, lint, build and deploy those files (into moto_server) and run audit
// against the result.
package deploy
