/**
 * The Slack app's secrets, set once per stage with `npx sst secret set SlackBotToken xoxb-…`
 * and `npx sst secret set SlackSigningSecret …`. When no service asks for Slack approval they
 * get a placeholder, so a stage without Slack deploys without them; when one does, a missing
 * secret stops the deploy with SST's own "Set a value for SlackBotToken" message.
 */
export function createSlackSecrets(usesSlack: boolean) {
  const placeholder = usesSlack ? undefined : 'unused: no service asks for Slack approval';
  const botToken = new sst.Secret('SlackBotToken', placeholder);
  const signingSecret = new sst.Secret('SlackSigningSecret', placeholder);
  return { botToken: botToken.value, signingSecret: signingSecret.value };
}
