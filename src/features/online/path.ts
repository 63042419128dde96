/** The online feature server's route, in its own module so that the CLI can name it without loading the server. */
export const ONLINE_PATH = '/features/online';
