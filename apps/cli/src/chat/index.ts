// `mqim chat`: the terminal chat client, built on @mqim/sdk. The CLI's dispatcher calls runChat.
export { runChat, type ChatIo } from './chat.command';
export { CHAT_USAGE } from './chat.args';
