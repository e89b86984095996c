console.log("gla");
