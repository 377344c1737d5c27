// Keeps the net library non-empty until its first session lands.
namespace troupe::net {}
