// Registers tsx's loader, resolved from this repository whatever the working directory is.
import 'tsx';
