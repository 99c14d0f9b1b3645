import { main } from '../daemon/main.ts';

void main(process.argv.slice(2));
