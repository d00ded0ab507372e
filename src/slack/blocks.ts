/**
 * The Block Kit blocks greenlight's approval messages are made of, and no others
 * (docs.slack.dev/reference/block-kit/blocks). Typed here rather than taken from @slack/types,
 * which came with the Web API client greenlight no longer ships.
 */
export interface PlainTextObject {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface MrkdwnObject {
  type: 'mrkdwn';
  text: string;
  verbatim?: boolean;
}

export type TextObject = PlainTextObject | MrkdwnObject;

export interface ButtonElement {
  type: 'button';
  action_id: string;
  text: PlainTextObject;
  value?: string;
  style?: 'primary' | 'danger';
}

export interface HeaderBlock {
  type: 'header';
  block_id?: string;
  text: PlainTextObject;
}

export interface SectionBlock {
  type: 'section';
  block_id?: string;
  text?: TextObject;
  fields?: TextObject[];
}

export interface ContextBlock {
  type: 'context';
  block_id?: string;
  elements: TextObject[];
}

export interface ActionsBlock {
  type: 'actions';
  block_id?: string;
  elements: ButtonElement[];
}

export type KnownBlock = HeaderBlock | SectionBlock | ContextBlock | ActionsBlock;
