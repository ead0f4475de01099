// Integration and end-to-end specs talk to real servers and start real processes.
jest.setTimeout(120000);
