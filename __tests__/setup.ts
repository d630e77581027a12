import "cdktf/lib/testing/adapters/jest";
import { Testing } from "cdktf";

// Adds cdktf's matchers (toHaveResource, toHaveResourceWithProperties, ...) to expect.
// toBeValidTerraform and toPlanSuccessfully need the Terraform registry: not used here.
Testing.setupJest();
